"""PREMIS 3.0 preservation metadata of one item: the item as an intellectual entity, each
file as a file object (SHA-256 fixity, size, format, catalogued name), every provenance event
of the catalog (archive/events.py) with its agents: the person (`--by`, else the OS user) as
implementer and the tool and version as executing program.

    premis_record(item) -> <premis:premis version="3.0"><premis:object xsi:type="premis:
        intellectualEntity">…QXS-L-00001…</premis:object><premis:object xsi:type="premis:file">
        …<premis:messageDigestAlgorithm>SHA-256</…>…</premis:object><premis:event>…
        <premis:eventType>ingestion</premis:eventType>…</premis:event><premis:agent>…</premis:agent>
"""
from __future__ import annotations

from lxml import etree

from archive.standards.records import EventRecord, FileRecord, ItemRecord

NS = "http://www.loc.gov/premis/v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA = "http://www.loc.gov/standards/premis/v3/premis.xsd"
ID_TYPE = "local"  # identifiers of this catalog: accession numbers, item/path, event numbers


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    if text is not None:
        el.text = text
    return el


def _identifier(parent: etree._Element, prefix: str, value: str) -> None:
    ident = _sub(parent, f"{prefix}Identifier")
    _sub(ident, f"{prefix}IdentifierType", ID_TYPE)
    _sub(ident, f"{prefix}IdentifierValue", value)


def file_id(item: ItemRecord, f: FileRecord) -> str:
    return f"{item.accession}/{f.path}"


def event_id(e: EventRecord) -> str:
    return f"event-{e.id}"


def agent_ids(e: EventRecord) -> list[tuple[str, str, str]]:
    """(identifier, agent type, role) of the agents of an event: the person and the tool."""
    out = []
    if e.agent:
        out.append((f"person:{e.agent}", "person", "implementer"))
    if e.tool:
        out.append((f"software:{e.tool}", "software", "executing program"))
    return out


def event_detail(e: EventRecord) -> str | None:
    """'title: 旧 -> 新' for an edit; the event's own detail otherwise."""
    parts = []
    if e.field:
        parts.append(f"{e.field}: {e.old_value if e.old_value is not None else '(none)'} -> "
                     f"{e.new_value if e.new_value is not None else '(none)'}")
    if e.detail:
        parts.append(e.detail)
    return "; ".join(parts) or None


def _object_file(root: etree._Element, item: ItemRecord, f: FileRecord,
                 events: list[EventRecord]) -> None:
    obj = _sub(root, "object")
    obj.set(f"{{{XSI}}}type", "premis:file")
    _identifier(obj, "object", file_id(item, f))
    chars = _sub(obj, "objectCharacteristics")
    _sub(chars, "compositionLevel", "0")
    if f.sha256:
        fixity = _sub(chars, "fixity")
        _sub(fixity, "messageDigestAlgorithm", "SHA-256")
        _sub(fixity, "messageDigest", f.sha256)
        _sub(fixity, "messageDigestOriginator", "archive ingest")
    _sub(chars, "size", str(f.size))
    fmt = _sub(chars, "format")
    designation = _sub(fmt, "formatDesignation")
    _sub(designation, "formatName", f.mime or "application/octet-stream")
    _sub(obj, "originalName", f.path)
    relationship = _sub(obj, "relationship")
    _sub(relationship, "relationshipType", "structural")
    _sub(relationship, "relationshipSubType", "is included in")
    related = _sub(relationship, "relatedObjectIdentifier")
    _sub(related, "relatedObjectIdentifierType", ID_TYPE)
    _sub(related, "relatedObjectIdentifierValue", item.accession)
    for e in events:
        link = _sub(obj, "linkingEventIdentifier")
        _sub(link, "linkingEventIdentifierType", ID_TYPE)
        _sub(link, "linkingEventIdentifierValue", event_id(e))


def _event(root: etree._Element, item: ItemRecord, e: EventRecord) -> None:
    ev = _sub(root, "event")
    _identifier(ev, "event", event_id(e))
    _sub(ev, "eventType", e.kind)
    _sub(ev, "eventDateTime", e.at.replace(microsecond=0).isoformat() + "Z")
    detail = event_detail(e)
    if detail:
        _sub(_sub(ev, "eventDetailInformation"), "eventDetail", detail)
    _sub(_sub(ev, "eventOutcomeInformation"), "eventOutcome", e.outcome)
    for ident, _, role in agent_ids(e):
        link = _sub(ev, "linkingAgentIdentifier")
        _sub(link, "linkingAgentIdentifierType", ID_TYPE)
        _sub(link, "linkingAgentIdentifierValue", ident)
        _sub(link, "linkingAgentRole", role)
    link = _sub(ev, "linkingObjectIdentifier")
    _sub(link, "linkingObjectIdentifierType", ID_TYPE)
    target = next((f for f in item.files if f.path == e.file_path), None) \
        if e.file_path else None
    _sub(link, "linkingObjectIdentifierValue",
         file_id(item, target) if target else item.accession)


def premis_record(item: ItemRecord) -> etree._Element:
    """The item's PREMIS document (valid against premis.xsd)."""
    root = etree.Element(_q("premis"), nsmap={"premis": NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} {SCHEMA}")
    root.set("version", "3.0")
    entity = _sub(root, "object")
    entity.set(f"{{{XSI}}}type", "premis:intellectualEntity")
    _identifier(entity, "object", item.accession)
    _sub(entity, "originalName", item.title)
    for e in item.events:
        if e.file_path is None:
            link = _sub(entity, "linkingEventIdentifier")
            _sub(link, "linkingEventIdentifierType", ID_TYPE)
            _sub(link, "linkingEventIdentifierValue", event_id(e))
    for f in item.files:
        _object_file(root, item, f, [e for e in item.events if e.file_path == f.path])
    for e in item.events:
        _event(root, item, e)
    agents: dict[str, str] = {}
    for e in item.events:
        for ident, kind, _ in agent_ids(e):
            agents.setdefault(ident, kind)
    for ident, kind in agents.items():
        agent = _sub(root, "agent")
        _identifier(agent, "agent", ident)
        _sub(agent, "agentName", ident.split(":", 1)[1])
        _sub(agent, "agentType", kind)
    return root


def premis_document(item: ItemRecord) -> bytes:
    return etree.tostring(premis_record(item), xml_declaration=True, encoding="utf-8",
                          pretty_print=True)
