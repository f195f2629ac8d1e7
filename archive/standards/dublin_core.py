"""Dublin Core records in the oai_dc form (the one every OAI-PMH harvester reads), one per
item, and a streamed file of them.

    dc_record(letter) -> <oai_dc:dc><dc:title xml:lang="zh-Hans">钱学森致陈赓信…</dc:title>
        <dc:creator xml:lang="zh-Hans">钱学森</dc:creator><dc:date>1956-02-17</dc:date>
        <dc:type>Text</dc:type><dc:type>letter</dc:type><dc:identifier>QXS-L-00001</dc:identifier>
        <dc:language>zh</dc:language><dc:rights>© 钱学森家属</dc:rights> …</oai_dc:dc>

A circa date is given as the ISO 8601 interval it spans (circa 1986 -> 1981/1991), a range as
its interval (1950/1955), as EAD3's `normal` values are.

A file of many records (`archive export dc`) is written as the OAI-PMH ListRecords response a
harvester would have gathered from /oai, in one document with no resumption token: a standard
container every OAI tool reads, valid against OAI-PMH.xsd and oai_dc.xsd, rather than a wrapper
element of our own that no schema knows.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import IO

from lxml import etree

from archive.standards.records import ACCESS_NOTES, ItemRecord, dcmi_type
from archive.standards.text import bcp47

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
NSMAP = {"oai_dc": OAI_DC, "dc": DC, "xsi": XSI}


def _add(parent: etree._Element, name: str, text: str | None, lang: bool = False) -> None:
    if text is None or not str(text).strip():
        return
    el = etree.SubElement(parent, f"{{{DC}}}{name}")
    el.text = str(text)
    code = bcp47(el.text) if lang else None
    if code:
        el.set(XML_LANG, code)


def dc_record(item: ItemRecord) -> etree._Element:
    """The oai_dc record of one item (valid against oai_dc.xsd)."""
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap=NSMAP)
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {OAI_DC_SCHEMA}")
    _add(dc, "title", item.title, lang=True)
    _add(dc, "creator", item.scientist, lang=True)
    _add(dc, "description", item.description, lang=True)
    normal = item.normal_date
    _add(dc, "date", normal.normal if normal else item.date)
    _add(dc, "type", dcmi_type(item.type))
    _add(dc, "type", item.type)
    main = item.main_file
    _add(dc, "format", main.mime if main else None)
    _add(dc, "identifier", item.accession)
    for code in item.languages:
        _add(dc, "language", code)
    _add(dc, "rights", item.rights, lang=True)
    _add(dc, "rights", ACCESS_NOTES.get(item.access, item.access))
    return dc


def write_dc(items: Iterable[ItemRecord], out: IO[bytes], source_url: str,
             now: dt.datetime) -> int:
    """Stream an OAI-PMH ListRecords document holding one record (header and oai_dc) per item
    to a binary file; returns the count. `source_url` is what the response's `request` names:
    the catalog the records were read from. Memory holds one record at a time."""
    from archive.standards import oai
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        root_attrs = {f"{{{XSI}}}schemaLocation": f"{oai.NS} {oai.SCHEMA}"}
        with xf.element(f"{{{oai.NS}}}OAI-PMH", root_attrs, nsmap={None: oai.NS, "xsi": XSI}):
            xf.write(oai.element("responseDate", oai.datestamp(now)), pretty_print=True)
            xf.write(oai.element("request", source_url, verb="ListRecords",
                                 metadataPrefix="oai_dc"), pretty_print=True)
            with xf.element(f"{{{oai.NS}}}ListRecords"):
                for item in items:
                    record = oai.element("record")
                    specs = ([f"scientist:{item.scientist_code}"] if item.scientist_code
                             else []) + [f"type:{item.type}"]
                    oai.header(record, item.accession, item.updated_at or now, specs, False)
                    oai.sub(record, "metadata").append(dc_record(item))
                    xf.write(record, pretty_print=True)
                    count += 1
                    if count % 500 == 0:
                        xf.flush()
    return count
