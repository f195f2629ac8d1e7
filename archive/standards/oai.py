"""OAI-PMH 2.0: the protocol as pure functions. Arguments in, a checked request out (or the OAI
error code to answer); resumption tokens; response documents built with lxml. The site's
/oai view (web/views/oai.py) reads the catalog through archive/standards/harvest.py.

    check_request([("verb", "ListRecords"), ("metadataPrefix", "oai_dc")])
        -> ("ListRecords", {"metadataPrefix": "oai_dc"})
    check_request([("verb", "Nonsense")])            -> raises OAIError("badVerb", …)
    parse_datestamp("2026-12-01")                   -> (2026-12-01 00:00, "day")
    parse_datestamp("2026-12-01T10:00:00Z")         -> (2026-12-01 10:00, "seconds")
    decode_token(encode_token(Token(...)))          -> the same Token
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from lxml import etree

NS = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
REPOSITORY_ID = "scientists-archive"
METADATA_FORMATS = {"oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                               "http://www.openarchives.org/OAI/2.0/oai_dc/")}

# verb -> (required arguments, optional arguments, exclusive argument)
VERBS: dict[str, tuple[set[str], set[str], str | None]] = {
    "Identify": (set(), set(), None),
    "ListMetadataFormats": (set(), {"identifier"}, None),
    "ListSets": (set(), set(), "resumptionToken"),
    "GetRecord": ({"identifier", "metadataPrefix"}, set(), None),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set"}, "resumptionToken"),
}


class OAIError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def check_request(pairs: Iterable[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments, checked as the protocol says (repeated, missing, illegal
    arguments are badArgument; a missing or unknown verb badVerb)."""
    args: dict[str, str] = {}
    for key, value in pairs:
        if key in args:
            raise OAIError("badVerb" if key == "verb" else "badArgument",
                           f"the argument {key} is repeated")
        args[key] = value
    verb = args.pop("verb", None)
    if verb is None or verb not in VERBS:
        raise OAIError("badVerb", "no verb given" if verb is None else f"unknown verb {verb}")
    required, optional, exclusive = VERBS[verb]
    illegal = set(args) - required - optional - ({exclusive} if exclusive else set())
    if illegal:
        raise OAIError("badArgument", f"{verb} takes no argument {', '.join(sorted(illegal))}")
    if exclusive and exclusive in args:
        if len(args) > 1:
            raise OAIError("badArgument", f"{exclusive} must be the only argument")
        return verb, args
    missing = required - set(args)
    if missing:
        raise OAIError("badArgument", f"{verb} needs {', '.join(sorted(missing))}")
    return verb, args


def parse_datestamp(text: str) -> tuple[dt.datetime, str]:
    """A from/until value in either of the repository's granularities."""
    for fmt, granularity in (("%Y-%m-%d", "day"), ("%Y-%m-%dT%H:%M:%SZ", "seconds")):
        try:
            return dt.datetime.strptime(text, fmt), granularity
        except ValueError:
            continue
    raise OAIError("badArgument", f"{text!r} is not a UTC datestamp (YYYY-MM-DD or "
                                  "YYYY-MM-DDThh:mm:ssZ)")


def date_window(start: str | None, until: str | None) -> tuple[dt.datetime | None,
                                                                dt.datetime | None]:
    """[start, end) of catalog change times for from/until, both inclusive as the protocol
    means them at their granularity."""
    lo = hi = None
    grains = []
    if start:
        lo, grain = parse_datestamp(start)
        grains.append(grain)
    if until:
        at, grain = parse_datestamp(until)
        grains.append(grain)
        hi = at + (dt.timedelta(days=1) if grain == "day" else dt.timedelta(seconds=1))
    if len(set(grains)) > 1:
        raise OAIError("badArgument", "from and until must have the same granularity")
    if lo is not None and hi is not None and lo >= hi:
        raise OAIError("badArgument", "from is after until")
    return lo, hi


def datestamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def identifier(accession: str) -> str:
    return f"oai:{REPOSITORY_ID}:{accession}"


def accession_of(oai_id: str) -> str | None:
    prefix = f"oai:{REPOSITORY_ID}:"
    return oai_id[len(prefix):] if oai_id.startswith(prefix) and len(oai_id) > len(prefix) \
        else None


@dataclass(frozen=True)
class Token:
    """Where a list stopped: the original arguments and the last (change time, id) sent."""
    verb: str
    prefix: str
    start: str | None
    until: str | None
    set: str | None
    at: str  # ISO change time of the last item sent, full precision
    last: int
    cursor: int


def encode_token(token: Token) -> str:
    raw = json.dumps(asdict(token), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(text: str, verb: str) -> Token:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        token = Token(**json.loads(raw))
        dt.datetime.fromisoformat(token.at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise OAIError("badResumptionToken", "the resumption token is not one this "
                                             "repository issued") from None
    if token.verb != verb:
        raise OAIError("badResumptionToken", f"the resumption token belongs to {token.verb}")
    return token


# -- response documents --------------------------------------------------------------------

def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def element(tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """An OAI-PMH element with no parent, for documents written a record at a time."""
    el = etree.Element(_q(tag), nsmap={None: NS}, **attrs)
    if text is not None:
        el.text = text
    return el


def sub(parent: etree._Element, tag: str, text: str | None = None,
        **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, _q(tag), **attrs)
    if text is not None:
        el.text = text
    return el


def envelope(base_url: str, now: dt.datetime, verb: str | None,
             args: dict[str, str]) -> etree._Element:
    root = etree.Element(_q("OAI-PMH"), nsmap={None: NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} {SCHEMA}")
    sub(root, "responseDate", datestamp(now))
    attrs = {"verb": verb, **args} if verb else {}
    sub(root, "request", base_url, **attrs)
    return root


def error_document(base_url: str, now: dt.datetime, error: OAIError, verb: str | None,
                   args: dict[str, str]) -> bytes:
    # badVerb and badArgument answer with a bare request element (the arguments were wrong).
    echo = error.code not in ("badVerb", "badArgument")
    root = envelope(base_url, now, verb if echo else None, args if echo else {})
    sub(root, "error", error.message, code=error.code)
    return serialize(root)


def header(parent: etree._Element, accession: str, changed: dt.datetime,
           set_specs: list[str], deleted: bool) -> None:
    h = sub(parent, "header", **({"status": "deleted"} if deleted else {}))
    sub(h, "identifier", identifier(accession))
    sub(h, "datestamp", datestamp(changed))
    for spec in set_specs:
        sub(h, "setSpec", spec)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
