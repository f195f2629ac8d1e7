"""OAI-PMH 2.0 at /oai: all six verbs, oai_dc records of public items, sets per scientist
(scientist:QXS) and material type (type:letter), from/until on the catalog's change time,
resumption tokens that survive catalog changes, withdrawn items announced as deleted. The
protocol lives in archive/standards/oai.py, the queries in archive/standards/harvest.py."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, current_app, request
from lxml import etree

from archive.models import utcnow
from archive.standards import harvest, source
from archive.standards.dublin_core import dc_record
from archive.standards.oai import (
    METADATA_FORMATS, OAIError, Token, accession_of, check_request, date_window, datestamp,
    decode_token, encode_token, envelope, error_document, header, serialize, sub,
)
from archive.standards.records import AGENCY
from web.views.context import db, site, state

PAGE_SIZE = 100  # records or headers per response; app.config["OAI_PAGE_SIZE"] overrides


def _xml(body: bytes) -> Response:
    return Response(body, mimetype="text/xml", headers={"Access-Control-Allow-Origin": "*"})


@site.route("/oai", methods=["GET", "POST"])
def oai() -> Response:
    source_args = request.form if request.method == "POST" else request.args
    pairs = list(source_args.items(multi=True))
    now = utcnow()
    raw = dict(reversed(pairs))  # what to echo in an error: each argument's first value
    raw_verb = raw.pop("verb", None)
    try:
        verb, args = check_request(pairs)
        root = envelope(request.base_url, now, verb, args)
        HANDLERS[verb](root, args)
    except OAIError as exc:
        return _xml(error_document(request.base_url, now, exc, raw_verb, raw))
    return _xml(serialize(root))


def _identify(root: etree._Element, args: dict[str, str]) -> None:
    body = sub(root, "Identify")
    sub(body, "repositoryName", AGENCY)
    sub(body, "baseURL", request.base_url)
    sub(body, "protocolVersion", "2.0")
    sub(body, "adminEmail", state().settings.admin_mailbox)  # the admin_email setting
    earliest = harvest.earliest(db())
    sub(body, "earliestDatestamp", datestamp(earliest or dt.datetime(1970, 1, 1)))
    sub(body, "deletedRecord", "persistent")
    sub(body, "granularity", "YYYY-MM-DDThh:mm:ssZ")


def _row_for(oai_id: str) -> harvest.HarvestRow:
    accession = accession_of(oai_id)
    row = harvest.find(db(), accession) if accession else None
    if row is None:
        raise OAIError("idDoesNotExist", f"no public item is known as {oai_id}")
    return row


def _formats(root: etree._Element, args: dict[str, str]) -> None:
    if "identifier" in args:
        _row_for(args["identifier"])
    body = sub(root, "ListMetadataFormats")
    for prefix, (schema, namespace) in METADATA_FORMATS.items():
        fmt = sub(body, "metadataFormat")
        sub(fmt, "metadataPrefix", prefix)
        sub(fmt, "schema", schema)
        sub(fmt, "metadataNamespace", namespace)


def _sets(root: etree._Element, args: dict[str, str]) -> None:
    if "resumptionToken" in args:
        raise OAIError("badResumptionToken", "ListSets is answered whole; no token was issued")
    body = sub(root, "ListSets")
    for spec, name in harvest.sets(db()):
        item = sub(body, "set")
        sub(item, "setSpec", spec)
        sub(item, "setName", name)


def _check_prefix(prefix: str) -> None:
    if prefix not in METADATA_FORMATS:
        raise OAIError("cannotDisseminateFormat", f"no metadata format {prefix!r}; "
                                                  "ListMetadataFormats names them")


def _specs(row: harvest.HarvestRow) -> list[str]:
    return ([f"scientist:{row.scientist_code}"] if row.scientist_code else []) + \
        [f"type:{row.type}"]


def _records(parent: etree._Element, rows: list[harvest.HarvestRow], full: bool) -> None:
    items = {}
    if full:
        live = [r.accession for r in rows if not r.deleted]
        items = {i.accession: i for i in source.items_by_accession(db(), live, False)}
    for row in rows:
        deleted = row.deleted or (full and row.accession not in items)
        if not full:
            header(parent, row.accession, row.updated_at, _specs(row), deleted)
            continue
        record = sub(parent, "record")
        header(record, row.accession, row.updated_at, _specs(row), deleted)
        if not deleted:
            sub(record, "metadata").append(dc_record(items[row.accession]))


def _get_record(root: etree._Element, args: dict[str, str]) -> None:
    _check_prefix(args["metadataPrefix"])
    row = _row_for(args["identifier"])
    _records(sub(root, "GetRecord"), [row], full=True)


def _list(root: etree._Element, args: dict[str, str], verb: str) -> None:
    if "resumptionToken" in args:
        token = decode_token(args["resumptionToken"], verb)
        after: tuple[dt.datetime, int] | None = (dt.datetime.fromisoformat(token.at),
                                                 token.last)
        prefix, start, until, spec, cursor = (token.prefix, token.start, token.until,
                                              token.set, token.cursor)
    else:
        prefix, start, until, spec = (args["metadataPrefix"], args.get("from"),
                                      args.get("until"), args.get("set"))
        after, cursor = None, 0
    _check_prefix(prefix)
    lo, hi = date_window(start, until)
    size = int(current_app.config.get("OAI_PAGE_SIZE", PAGE_SIZE))
    rows = harvest.page(db(), start=lo, end=hi, set_spec=spec, after=after, limit=size + 1)
    if not rows and after is None:
        raise OAIError("noRecordsMatch", "no item matches these arguments")
    more = len(rows) > size
    rows = rows[:size]
    body = sub(root, verb)
    _records(body, rows, full=verb == "ListRecords")
    if more:
        last = rows[-1]
        sub(body, "resumptionToken", encode_token(Token(
            verb, prefix, start, until, spec, last.updated_at.isoformat(), last.id,
            cursor + len(rows))), cursor=str(cursor))
    elif after is not None:
        sub(body, "resumptionToken", cursor=str(cursor))  # the list is complete


HANDLERS: dict[str, Any] = {
    "Identify": _identify,
    "ListMetadataFormats": _formats,
    "ListSets": _sets,
    "GetRecord": _get_record,
    "ListIdentifiers": lambda root, args: _list(root, args, "ListIdentifiers"),
    "ListRecords": lambda root, args: _list(root, args, "ListRecords"),
}
