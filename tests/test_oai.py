"""OAI-PMH at /oai (#17): harvested over HTTP with a real client (sickle) from the site served on
127.0.0.1, across resumption tokens, a withdrawal and an access change between pages; every
response validated against OAI-PMH.xsd (with oai_dc.xsd for the records); every error code."""
from __future__ import annotations

import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sickle
from lxml import etree
from sqlalchemy import select

from archive.catalog import Catalog
from archive.models import Item
from benchmarks.generators.samples import build_demo_collection, make_jpeg
from archive.standards.oai import OAIError, check_request, date_window, decode_token
from tests.schemas import assert_valid, needs_schemas
from tests.test_standards import run, write_manifest
from tests.catalogs import catalog_settings
from tests.sites import served as serving

OAI = "http://www.openarchives.org/OAI/2.0/"
PREFIX = "oai:scientists-archive:"


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Path]]:  # type: ignore[no-untyped-def]
    """The demo collection (with a restricted manuscript and a closed photo) ingested, and the
    site served on 127.0.0.1 by a real HTTP server, three records a page."""
    from web.app import create_app
    coll = build_demo_collection(tmp_path)
    make_jpeg(coll / "钱学森" / "照片" / "closed_photo_1966.jpg")
    extra = write_manifest(tmp_path / "more.csv", [
        ["path", "title", "access"], ["钱学森/照片/closed_photo_1966.jpg", "封存照片", "closed"]])
    catalog = tmp_path / "catalog.db"
    run(catalog, "scientists", "import", str(tmp_path / "scientists.csv"))
    run(catalog, "ingest", str(coll), "--manifest", str(coll / "manifest.csv"), "--quiet")
    run(catalog, "ingest", str(coll), "--manifest", str(extra), "--quiet")
    app = create_app(catalog_settings(catalog))
    app.config["OAI_PAGE_SIZE"] = 3
    with serving(app) as base:
        yield base + "/oai", catalog


def _accessions(catalog: Path, public: bool) -> set[str]:
    cat = Catalog.open(catalog_settings(catalog))
    with cat.session() as s:
        query = select(Item.accession)
        if public:
            query = query.where(Item.access == "open", Item.withdrawn_at.is_(None))
        found = set(s.scalars(query))
    cat.close()
    return found


def _get(url: str, **params: str) -> bytes:
    with urllib.request.urlopen(f"{url}?{urllib.parse.urlencode(params)}") as response:
        assert response.headers["Content-Type"].startswith("text/xml")
        return response.read()


def _assert_valid(data: bytes, tmp_path: Path) -> etree._Element:
    path = tmp_path / "response.xml"
    path.write_bytes(data)
    assert_valid("oai-pmh/OAI-PMH.xsd", path, data.decode()[:2000])
    return etree.fromstring(data)


# -- pure protocol functions -------------------------------------------------------------------

def test_request_checks_follow_the_protocol() -> None:
    assert check_request([("verb", "ListRecords"), ("metadataPrefix", "oai_dc")]) == \
        ("ListRecords", {"metadataPrefix": "oai_dc"})
    cases = {
        (("verb", "Nonsense"),): "badVerb",
        (): "badVerb",
        (("verb", "Identify"), ("verb", "Identify")): "badVerb",
        (("verb", "Identify"), ("set", "x")): "badArgument",
        (("verb", "GetRecord"), ("identifier", "x")): "badArgument",
        (("verb", "ListRecords"), ("resumptionToken", "t"), ("set", "x")): "badArgument",
        (("verb", "ListRecords"), ("metadataPrefix", "a"), ("metadataPrefix", "b")):
            "badArgument",
    }
    for pairs, code in cases.items():
        with pytest.raises(OAIError) as caught:
            check_request(pairs)
        assert caught.value.code == code, pairs
    for window in (("2026-01-02", "2026-01-01"), ("2026-01-01", "2026-01-01T00:00:00Z"),
                   ("yesterday", None)):
        with pytest.raises(OAIError):
            date_window(*window)
    with pytest.raises(OAIError) as caught:
        decode_token("bm90IGEgdG9rZW4", "ListRecords")
    assert caught.value.code == "badResumptionToken"


# -- harvesting the served site ------------------------------------------------------------------

@needs_schemas
def test_harvest_with_sickle_across_tokens_and_catalog_changes(served, tmp_path):
    from sickle.iterator import OAIResponseIterator
    url, catalog = served
    public = _accessions(catalog, public=True)
    everything = _accessions(catalog, public=False)
    assert len(public) > 6 and everything - public  # several pages; some never public
    harvester = sickle.Sickle(url, max_retries=1)
    records = harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False)
    first_page = [next(records) for _ in range(3)]
    seen = {r.header.identifier.removeprefix(PREFIX) for r in first_page}
    # Between pages: a letter not yet harvested is withdrawn, an open photo made restricted.
    later = sorted(public - seen)
    withdrawn, restricted = later[0], later[1]
    assert run(catalog, "withdraw", withdrawn, "--reason", "duplicate").exit_code == 0
    assert run(catalog, "edit", restricted, "--access", "restricted").exit_code == 0
    rest = list(records)
    harvested = [r.header for r in first_page + rest]
    live = {h.identifier.removeprefix(PREFIX) for h in harvested if not h.deleted}
    deleted = {h.identifier.removeprefix(PREFIX) for h in harvested if h.deleted}
    # Nothing public was skipped across the change; what left the public is announced deleted.
    assert live == public - {withdrawn, restricted}
    assert {withdrawn, restricted} <= deleted
    # Never-public items (the restricted manuscript, the closed photo) never appear at all.
    assert not (everything - public) & (live | deleted)
    letter = next(r for r in first_page + rest
                  if r.header.identifier == PREFIX + "QXS-L-00002")
    assert letter.metadata["title"] == ["钱学森致陈赓信（关于建立力学研究所）"]
    assert letter.metadata["creator"] == ["钱学森"]

    # Every page of every list validates, tokens and the closing empty token included.
    pages = 0
    for verb, kwargs in (("ListRecords", {}), ("ListIdentifiers", {}),
                         ("ListIdentifiers", {"set": "type:photograph"})):
        responses = sickle.Sickle(url, iterator=OAIResponseIterator)
        for response in getattr(responses, verb)(metadataPrefix="oai_dc", **kwargs):
            _assert_valid(response.raw.encode("utf-8"), tmp_path)
            pages += 1
    assert pages >= 6

    after = sickle.Sickle(url).GetRecord(identifier=PREFIX + withdrawn, metadataPrefix="oai_dc")
    assert after.header.deleted
    sets = {s.setSpec for s in sickle.Sickle(url).ListSets()}
    assert {"scientist:QXS", "scientist:ZJZ", "type:letter", "type:audio"} <= sets
    photos = {h.identifier for h in sickle.Sickle(url).ListIdentifiers(
        metadataPrefix="oai_dc", set="type:photograph", ignore_deleted=True)}
    assert photos and all("-P-" in i for i in photos)
    assert sickle.Sickle(url).Identify().deletedRecord == "persistent"


@needs_schemas
def test_every_error_condition_answers_with_its_code_and_validates(served, tmp_path):
    url, _ = served
    ok = _assert_valid(_get(url, verb="Identify"), tmp_path)
    assert ok.findtext(f"{{{OAI}}}Identify/{{{OAI}}}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    _assert_valid(_get(url, verb="ListMetadataFormats"), tmp_path)
    _assert_valid(_get(url, verb="ListSets"), tmp_path)
    future = "2999-01-01"
    cases = [
        ({"verb": "Frobnicate"}, "badVerb"),
        ({}, "badVerb"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "last week"},
         "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "not-ours"}, "badResumptionToken"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc",
          "identifier": PREFIX + "QXS-M-00001"}, "idDoesNotExist"),  # restricted: not here
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:x:y"},
         "idDoesNotExist"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": future}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "scientist:NOBODY"},
         "noRecordsMatch"),
    ]
    for params, code in cases:
        doc = _assert_valid(_get(url, **params), tmp_path)
        error = doc.find(f"{{{OAI}}}error")
        assert error is not None and error.get("code") == code, (params, code)
    body = urllib.parse.urlencode({"verb": "ListRecords", "metadataPrefix": "oai_dc"}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=body)) as response:
        posted = _assert_valid(response.read(), tmp_path)
    token = posted.findtext(f".//{{{OAI}}}resumptionToken")
    assert token and re.fullmatch(r"[A-Za-z0-9_-]+", token)
    with pytest.raises(OAIError):  # a ListRecords token is refused for ListIdentifiers
        decode_token(token, "ListIdentifiers")
