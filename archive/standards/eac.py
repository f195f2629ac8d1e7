"""EAC-CPF 2.0 records of scientists: the preferred name and every variant as name entries
with their language and script, the romanization (pinyin, Wade-Giles) declared as a
convention, dates of existence, field and biography.

    name_entry(NameRecord("钱学森", True), ["钱学森"])
        -> <nameEntry status="authorized" preferredForm="true" languageOfElement="chi"
                      scriptOfElement="Hans"><part>钱学森</part></nameEntry>
    name_entry(NameRecord("Tsien Hsue-shen", False), ["钱学森"])
        -> <nameEntry status="alternative" languageOfElement="chi" scriptOfElement="Latn"
                      conventionDeclarationReference="wade-giles">...</nameEntry>
"""
from __future__ import annotations

import datetime as dt

from lxml import etree
from lxml.builder import ElementMaker

from archive.standards.records import AGENCY, TOOL, NameRecord, ScientistRecord
from archive.standards.text import romanization, script_of

NS = "https://archivists.org/ns/eac/v2"
E = ElementMaker(namespace=NS, nsmap={None: NS})

# Romanizations a Latin name may be declared in (conventionDeclaration ids).
CONVENTIONS = {
    "pinyin": ("Hanyu Pinyin (ISO 7098:2015, Romanization of Chinese)", "pinyin"),
    "wade-giles": ("Wade–Giles romanization of Chinese, and the older forms scientists "
                   + "published under", "Wade-Giles"),
}


def _lang(text: str) -> dict[str, str]:
    script = script_of(text)
    return {} if script == "Latn" else {"languageOfElement": "chi", "scriptOfElement": script}


def name_entry(name: NameRecord, han_forms: list[str]) -> etree._Element:
    attrs = {"status": "authorized" if name.preferred else "alternative"}
    if name.preferred:
        attrs["preferredForm"] = "true"
    script = script_of(name.name)
    system = romanization(name.name, han_forms) if script == "Latn" else None
    if script != "Latn":
        attrs.update(languageOfElement="chi", scriptOfElement=script)
    elif system:
        # A romanized Chinese name: Chinese language written in Latin script.
        attrs.update(languageOfElement="chi", scriptOfElement="Latn",
                     conventionDeclarationReference=system)
    else:
        attrs["scriptOfElement"] = "Latn"
    return E.nameEntry(E.part(name.name), **attrs)


def _control(sc: ScientistRecord, now: dt.datetime, systems: set[str]) -> etree._Element:
    conventions = [E.conventionDeclaration(E.reference(CONVENTIONS[s][0]),
                                           E.shortCode(CONVENTIONS[s][1]), id=s)
                   for s in CONVENTIONS if s in systems]
    return E.control(
        E.recordId(sc.code),
        E.maintenanceAgency(E.agencyName(AGENCY)),
        E.maintenanceHistory(E.maintenanceEvent(
            E.agent(TOOL, agentType="machine"),
            E.eventDateTime(now.strftime("%Y-%m-%d %H:%M UTC"),
                            standardDateTime=now.strftime("%Y-%m-%dT%H:%M:%SZ")),
            E.eventDescription("Exported from the catalog by `archive export eac`."),
            maintenanceEventType="created")),
        *conventions,
        E.languageDeclaration(languageCode="eng", scriptCode="Latn"),
        maintenanceStatus="new", languageEncoding="iso639-2b", scriptEncoding="iso15924",
        dateEncoding="iso8601")


def _description(sc: ScientistRecord) -> etree._Element | None:
    parts = []
    if sc.field:
        parts.append(E.localDescriptions(E.localDescription(
            E.term(sc.field, **_lang(sc.field)), localType="field")))
    if sc.born or sc.died:
        dates = []
        if sc.born:
            dates.append(E.fromDate(str(sc.born), standardDate=f"{sc.born:04d}"))
        if sc.died:
            dates.append(E.toDate(str(sc.died), standardDate=f"{sc.died:04d}"))
        parts.append(E.existDates(E.dateRange(*dates)))
    paras = sc.biography_paragraphs()
    if paras:
        parts.append(E.biogHist(*[E.p(p, **_lang(p)) for p in paras]))
    return E.description(*parts) if parts else None


def eac_record(sc: ScientistRecord, now: dt.datetime) -> etree._Element:
    names = sc.names
    han = [n.name for n in names if script_of(n.name) != "Latn"]
    systems = {s for n in names if (s := romanization(n.name, han))}
    identity = E.identity(E.entityType(value="person"),
                          *[name_entry(n, han) for n in names])
    description = _description(sc)
    cpf = E.cpfDescription(identity, *([description] if description is not None else []))
    return E.eac(_control(sc, now, systems), cpf)


def eac_document(sc: ScientistRecord, now: dt.datetime) -> bytes:
    return etree.tostring(eac_record(sc, now), xml_declaration=True, encoding="utf-8",
                          pretty_print=True)
