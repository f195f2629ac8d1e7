"""EAD3 1.1.1 finding aids: one scientist's fonds, a series per material type, an item per
catalogued item. Pure builders of each part (control, the fonds' did, a series' did, an item's
component) and a writer that streams the items, so a fonds of any size needs one item's
element at a time.

    item_component(letter) -> <c level="item"><did>
        <unittitle lang="chi" script="Hans">钱学森致陈赓信</unittitle><unitid>QXS-L-00002</unitid>
        <unitdate normal="1956-02-17">1956-02-17</unitdate> ... </did>
        <accessrestrict localtype="open">...</accessrestrict></c>
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from itertools import groupby
from typing import IO

from lxml import etree
from lxml.builder import ElementMaker

from archive.standards.records import (
    ACCESS_NOTES,
    AGENCY,
    SERIES_TITLES,
    TOOL,
    Fonds,
    ItemRecord,
    ScientistRecord,
    SeriesSummary,
)
from archive.standards.text import (
    LANGUAGE_NAMES,
    iso639_2b,
    romanization,
    script_of,
    year_span,
)

NS = "http://ead3.archivists.org/schema/"
E = ElementMaker(namespace=NS, nsmap={None: NS})


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def text_attrs(text: str) -> dict[str, str]:
    """lang/script of Chinese text as written (lang="chi" script="Hans"); nothing for Latin
    text, whose language cannot be told (English and pinyin look alike)."""
    script = script_of(text)
    return {} if script == "Latn" else {"lang": "chi", "script": script}


def _el(tag: str, text: str, **attrs: str) -> etree._Element:
    el = E(tag, text, **{**text_attrs(text), **attrs})
    return el


def latin_name(scientist: ScientistRecord) -> str | None:
    """The pinyin form of the name when one is recorded, else any Latin form."""
    han = [n for n in (scientist.name, *scientist.variants) if script_of(n) != "Latn"]
    latin = [v for v in (scientist.name, *scientist.variants) if script_of(v) == "Latn"]
    return next((v for v in latin if romanization(v, han) == "pinyin"),
                latin[0] if latin else None)


def fonds_titles(scientist: ScientistRecord) -> list[tuple[str, dict[str, str]]]:
    """('钱学森档案', Chinese attrs) and ('Papers of Qian Xuesen', {}) as applicable."""
    titles = []
    if script_of(scientist.name) != "Latn":
        titles.append((f"{scientist.name}档案", text_attrs(scientist.name)))
    latin = latin_name(scientist)
    if latin:
        titles.append((f"Papers of {latin}", {}))
    return titles or [(f"Papers of {scientist.name}", {})]


def control(fonds: Fonds, now: dt.datetime) -> etree._Element:
    sc = fonds.scientist
    titles = [E.titleproper(t, **attrs) for t, attrs in fonds_titles(sc)]
    return E.control(
        E.recordid(f"{sc.code}-ead"),
        E.filedesc(E.titlestmt(*titles)),
        E.maintenancestatus(value="new"),
        E.maintenanceagency(E.agencyname(AGENCY)),
        E.languagedeclaration(E.language("English", langcode="eng"),
                              E.script("Latin", scriptcode="Latn")),
        E.maintenancehistory(E.maintenanceevent(
            E.eventtype(value="created"),
            E.eventdatetime(now.strftime("%Y-%m-%d %H:%M UTC"),
                            standarddatetime=now.strftime("%Y-%m-%dT%H:%M:%S")),
            E.agenttype(value="machine"),
            E.agent(TOOL),
            E.eventdescription("Exported from the catalog by `archive export ead`."))),
        langencoding="iso639-2b", scriptencoding="iso15924", dateencoding="iso8601")


def _span_date(first: int | None, last: int | None) -> list[etree._Element]:
    span = year_span(first, last)
    if span is None:
        return []
    return [E.unitdate(span[0], normal=span[1], unitdatetype="inclusive")]


def _quantity(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def _count(n: int, unit: str) -> etree._Element:
    return E.physdescstructured(E.quantity(str(n)), E.unittype(unit),
                                physdescstructuredtype="materialtype", coverage="whole")


def origination(sc: ScientistRecord) -> etree._Element:
    return E.origination(E.persname(_el("part", sc.name), **text_attrs(sc.name)),
                         label="Creator")


def fonds_did(fonds: Fonds) -> etree._Element:
    sc = fonds.scientist
    title, attrs = fonds_titles(sc)[0]
    return E.did(
        E.unittitle(title, **attrs),
        E.unitid(sc.code),
        *_span_date(fonds.first_year, fonds.last_year),
        origination(sc),
        _count(fonds.items, "items" if fonds.items != 1 else "item"))


def bioghist(sc: ScientistRecord) -> etree._Element | None:
    """The biography, else a summary of dates and field; None when nothing is known."""
    paras = [_el("p", p) for p in sc.biography_paragraphs()]
    return E.bioghist(*paras) if paras else None


def series_did(summary: SeriesSummary) -> etree._Element:
    return E.did(E.unittitle(SERIES_TITLES.get(summary.type, summary.type)),
                 *_span_date(summary.first_year, summary.last_year),
                 _count(summary.items, "items" if summary.items != 1 else "item"))


def item_component(item: ItemRecord) -> etree._Element:
    """One <c level="item">: accession as unitid, title, date with its ISO `normal`, extent,
    physical location, language; then description, access and rights notes."""
    did = [_el("unittitle", item.title), E.unitid(item.accession)]
    if item.date:
        normal = item.normal_date
        attrs = {}
        if normal:
            attrs["normal"] = normal.normal
            if normal.certainty:
                attrs["certainty"] = normal.certainty
        did.append(E.unitdate(item.date, **attrs))
    extent = item.extent
    if extent:
        parts = [E.quantity(_quantity(extent.quantity)), E.unittype(extent.unit)]
        if extent.dimensions:
            parts.append(E.dimensions(extent.dimensions))
        did.append(E.physdescstructured(*parts, physdescstructuredtype="materialtype",
                                        coverage="whole"))
    if item.location:
        did.append(_el("physloc", item.location))
    langs = item.languages
    if langs:
        did.append(E.langmaterial(*[E.language(LANGUAGE_NAMES.get(iso639_2b(c), c),
                                               langcode=iso639_2b(c)) for c in langs]))
    body = [E.did(*did)]
    if item.description:
        body.append(E.scopecontent(_el("p", item.description)))
    body.append(E.accessrestrict(E.p(ACCESS_NOTES.get(item.access, item.access)),
                                 localtype=item.access))
    if item.rights:
        body.append(E.userestrict(_el("p", item.rights)))
    return E.c(*body, level="item")


def write_ead(fonds: Fonds, items: Iterable[ItemRecord], out: IO[bytes],
              now: dt.datetime) -> int:
    """Stream the finding aid to a binary file; items must come ordered by material type (as
    source.scientist_items yields them). Returns the number of items written."""
    summaries = {s.type: s for s in fonds.series}
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(_q("ead"), nsmap={None: NS}):
            xf.write(control(fonds, now), pretty_print=True)
            with xf.element(_q("archdesc"), level="fonds"):
                xf.write(fonds_did(fonds), pretty_print=True)
                bio = bioghist(fonds.scientist)
                if bio is not None:
                    xf.write(bio, pretty_print=True)
                if fonds.items:
                    with xf.element(_q("dsc")):
                        count = _write_series(xf, items, summaries)
    return count


def _write_series(xf: etree.xmlfile, items: Iterable[ItemRecord],
                  summaries: dict[str, SeriesSummary]) -> int:
    count = 0
    # groupby is lazy: one series open at a time, its items streamed through it.
    for material_type, group in groupby(items, key=lambda i: i.type):
        with xf.element(_q("c"), level="series"):
            summary = summaries.get(material_type) or SeriesSummary(material_type, 0, None,
                                                                    None)
            xf.write(series_did(summary), pretty_print=True)
            for item in group:
                xf.write(item_component(item), pretty_print=True)
                count += 1
                if count % 200 == 0:
                    xf.flush()
    return count


def ead_document(fonds: Fonds, items: Iterable[ItemRecord], now: dt.datetime) -> bytes:
    """The whole finding aid as bytes (tests and small fonds)."""
    import io
    buf = io.BytesIO()
    write_ead(fonds, items, buf, now)
    return buf.getvalue()
