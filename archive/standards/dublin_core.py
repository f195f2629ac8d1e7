"""Dublin Core records in the oai_dc form (the one every OAI-PMH harvester reads), one per
item, and a streamed file of them.

    dc_record(letter) -> <oai_dc:dc><dc:title xml:lang="zh-Hans">钱学森致陈赓信…</dc:title>
        <dc:creator xml:lang="zh-Hans">钱学森</dc:creator><dc:date>1956-02-17</dc:date>
        <dc:type>Text</dc:type><dc:type>letter</dc:type><dc:identifier>QXS-L-00001</dc:identifier>
        <dc:language>zh</dc:language><dc:rights>© 钱学森家属</dc:rights> …</oai_dc:dc>

A circa date is given as the ISO 8601 interval it spans (circa 1986 -> 1981/1991), a range as
its interval (1950/1955), as EAD3's `normal` values are.
"""
from __future__ import annotations

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
# The wrapper of `archive export dc` files: a list of records, not itself a DC element.
RECORDS_NS = "urn:x-scientists-archive:dc-records"


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


def write_dc(items: Iterable[ItemRecord], out: IO[bytes]) -> int:
    """Stream `<records>` holding one oai_dc:dc per item to a binary file; returns the count.
    Memory holds one record at a time, whatever the number of items."""
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{RECORDS_NS}}}records", nsmap={None: RECORDS_NS}):
            for item in items:
                xf.write(dc_record(item), pretty_print=True)
                count += 1
                if count % 500 == 0:
                    xf.flush()
    return count
