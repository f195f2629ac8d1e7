"""The archives' standards (#17): EAD3, EAC-CPF, Dublin Core and PREMIS validated against the
official schemas in ../shared/schemas, BagIt bags built and checked with bagit-python and
compared byte for byte with the originals, restricted and withdrawn items kept out."""
from __future__ import annotations

import datetime as dt
import json
import os
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from archive.catalog import Catalog
from archive.cli import main
from archive.models import File, Item
from benchmarks.generators.samples import build_demo_collection, make_jpeg
from archive.standards.text import normal_date, romanization, script_of
from tests.conftest import snapshot, write_manifest
from tests.schemas import assert_valid, needs_schemas
from tests.catalogs import catalog_env, catalog_settings, catalog_url

EAD = "http://ead3.archivists.org/schema/"
EAC = "https://archivists.org/ns/eac/v2"
DC = "http://purl.org/dc/elements/1.1/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI = "http://www.openarchives.org/OAI/2.0/"
PREMIS = "http://www.loc.gov/premis/v3"


def run(catalog: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--catalog", catalog_url(catalog), *args],
                              env=catalog_env(catalog), catch_exceptions=False)


@pytest.fixture(scope="module")
def archive_site(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo collection with a circa photo, a range-dated notebook, a title in traditional
    characters, a restricted manuscript (demo), a closed photo and a withdrawn letter."""
    base = tmp_path_factory.mktemp("standards")
    coll = build_demo_collection(base)
    make_jpeg(coll / "钱学森" / "照片" / "closed_photo_1966.jpg")
    extra = write_manifest(base / "more.csv", [
        ["path", "title", "date", "access", "description", "rights"],
        ["钱学森/照片/力学所_1956.jpg", "力学所合影", "约1956", "open", "", ""],
        ["钱学森/手稿/笔记_1955.tif", "力学笔记", "1955..1957", "open", "", ""],
        ["钱学森/照片/归国_1955_10_08.jpg", "錢學森歸國", "1955-10-08", "open", "", "公有领域"],
        ["钱学森/照片/closed_photo_1966.jpg", "封存照片", "1966", "closed", "封存", ""],
    ])
    catalog = base / "catalog.db"
    assert run(catalog, "scientists", "import", str(base / "scientists.csv")).exit_code == 0
    run(catalog, "ingest", str(coll), "--manifest", str(coll / "manifest.csv"), "--quiet")
    run(catalog, "ingest", str(coll), "--manifest", str(extra), "--quiet")
    assert run(catalog, "withdraw", "QXS-L-00001", "--reason", "a duplicate").exit_code == 0
    return catalog, coll


def _accession(catalog: Path, title: str) -> str:
    cat = Catalog.open(catalog_settings(catalog))
    with cat.session() as s:
        acc = s.scalar(select(Item.accession).where(Item.title == title))
    cat.close()
    assert acc, title
    return acc


# -- pure functions --------------------------------------------------------------------------

def test_scripts_romanizations_and_normal_dates() -> None:
    assert [script_of(t) for t in ("钱学森", "錢學森", "Qian Xuesen", "王大中")] == \
        ["Hans", "Hant", "Latn", "Hani"]
    han = ["钱学森", "錢學森"]
    assert romanization("Qian Xuesen", han) == "pinyin"
    assert romanization("Xuesen Qian", han) == "pinyin"
    assert romanization("Tsien Hsue-shen", han) == "wade-giles"
    assert romanization("Marie Curie", han) is None
    assert romanization("錢學森", han) is None
    d = dt.date
    assert normal_date("1956-02-17", d(1956, 2, 17), d(1956, 2, 17), "day").normal == "1956-02-17"
    circa = normal_date("circa 1956", d(1951, 1, 1), d(1961, 12, 31), "circa")
    assert (circa.normal, circa.certainty) == ("1951/1961", "approximate")
    assert normal_date("1955/1957", d(1955, 1, 1), d(1957, 12, 31), "range").normal == \
        "1955/1957"
    assert normal_date(None, None, None, None) is None


# -- EAD3 ------------------------------------------------------------------------------------

@needs_schemas
def test_ead_finding_aid_validates_with_series_items_and_dates(archive_site, tmp_path):
    catalog, _ = archive_site
    out = tmp_path / "qxs.xml"
    result = run(catalog, "export", "ead", "Qian Xuesen", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert_valid("ead3/ead3.xsd", out)
    assert_valid("ead3/ead3.rng", out)
    ns = {"e": EAD}
    doc = etree.parse(str(out))
    assert doc.getroot().find("e:archdesc", ns).get("level") == "fonds"
    part = doc.find(".//e:archdesc/e:did/e:origination/e:persname/e:part", ns)
    assert (part.text, part.get("lang"), part.get("script")) == ("钱学森", "chi", "Hans")
    series = doc.findall(".//e:dsc/e:c[@level='series']", ns)
    titles = [c.findtext("e:did/e:unittitle", namespaces=ns) for c in series]
    assert titles == ["Letters", "Manuscripts", "Photographs", "Audio recordings"]
    items = {c.findtext("e:did/e:unitid", namespaces=ns): c
             for c in doc.findall(".//e:c[@level='item']", ns)}
    # Public only: the restricted manuscript, the closed photo and the withdrawn letter are out.
    assert "QXS-M-00001" not in items and "QXS-L-00001" not in items
    assert not any(c.findtext("e:did/e:unittitle", namespaces=ns) == "封存照片"
                   for c in items.values())
    letter = items["QXS-L-00002"]
    title = letter.find("e:did/e:unittitle", ns)
    assert (title.text, title.get("lang"), title.get("script")) == \
        ("钱学森致陈赓信（关于建立力学研究所）", "chi", "Hans")
    assert letter.find("e:did/e:unitdate", ns).get("normal") == "1956-02-17"
    assert letter.findtext("e:did/e:physloc", namespaces=ns) == "Box 3, Folder 12"
    assert letter.findtext("e:did/e:physdescstructured/e:quantity", namespaces=ns) == "2"
    assert letter.find("e:accessrestrict", ns).get("localtype") == "open"
    assert letter.findtext("e:userestrict/e:p", namespaces=ns) == "© 钱学森家属"
    assert letter.find("e:did/e:langmaterial/e:language", ns).get("langcode") == "chi"
    by_title = {c.findtext("e:did/e:unittitle", namespaces=ns): c for c in items.values()}
    circa = by_title["力学所合影"].find("e:did/e:unitdate", ns)
    assert (circa.text, circa.get("normal"), circa.get("certainty")) == \
        ("circa 1956", "1951/1961", "approximate")
    ranged = by_title["力学笔记"].find("e:did/e:unitdate", ns)
    assert (ranged.text, ranged.get("normal")) == ("1955/1957", "1955/1957")
    traditional = by_title["錢學森歸國"].find("e:did/e:unittitle", ns)
    assert traditional.get("script") == "Hant"
    bio = doc.find(".//e:archdesc/e:bioghist/e:p", ns)
    assert bio.text == "钱学森 (1911–2009). 力学 / aerospace engineering."
    assert bio.get("script") == "Hans"


@needs_schemas
def test_ead_with_include_restricted_holds_restricted_and_closed_never_withdrawn(
        archive_site, tmp_path):
    catalog, _ = archive_site
    out = tmp_path / "all.xml"
    assert run(catalog, "export", "ead", "钱学森", "--include-restricted", "-o",
               str(out)).exit_code == 0
    assert_valid("ead3/ead3.xsd", out)
    ns = {"e": EAD}
    doc = etree.parse(str(out))
    items = {c.findtext("e:did/e:unitid", namespaces=ns): c
             for c in doc.findall(".//e:c[@level='item']", ns)}
    assert items["QXS-M-00001"].find("e:accessrestrict", ns).get("localtype") == "restricted"
    assert any(c.find("e:accessrestrict", ns).get("localtype") == "closed"
               for c in items.values())
    assert "QXS-L-00001" not in items  # withdrawn stays out even for staff


def test_ead_of_an_unknown_scientist_is_a_usage_error(archive_site):
    catalog, _ = archive_site
    result = run(catalog, "export", "ead", "Nobody Atall")
    assert result.exit_code == 2
    assert "unknown scientist" in result.output


# -- EAC-CPF ---------------------------------------------------------------------------------

@needs_schemas
def test_eac_record_validates_with_every_name_and_its_script(archive_site, tmp_path):
    catalog, _ = archive_site
    out = tmp_path / "qxs-eac.xml"
    assert run(catalog, "export", "eac", "錢學森", "-o", str(out)).exit_code == 0
    assert_valid("eac-cpf/eac.xsd", out)
    assert_valid("eac-cpf/eac.rng", out)
    ns = {"c": EAC}
    doc = etree.parse(str(out))
    entries = {e.findtext("c:part", namespaces=ns): e
               for e in doc.findall(".//c:identity/c:nameEntry", ns)}
    assert set(entries) == {"钱学森", "Qian Xuesen", "Tsien Hsue-shen", "錢學森", "H. S. Tsien"}
    preferred = entries["钱学森"]
    assert (preferred.get("status"), preferred.get("preferredForm"),
            preferred.get("scriptOfElement")) == ("authorized", "true", "Hans")
    assert entries["錢學森"].get("scriptOfElement") == "Hant"
    assert (entries["Qian Xuesen"].get("scriptOfElement"),
            entries["Qian Xuesen"].get("conventionDeclarationReference")) == ("Latn", "pinyin")
    assert entries["Tsien Hsue-shen"].get("conventionDeclarationReference") == "wade-giles"
    assert {c.get("id") for c in doc.findall(".//c:conventionDeclaration", ns)} == \
        {"pinyin", "wade-giles"}
    assert doc.find(".//c:existDates/c:dateRange/c:fromDate", ns).get("standardDate") == "1911"
    assert doc.find(".//c:existDates/c:dateRange/c:toDate", ns).get("standardDate") == "2009"
    assert doc.findtext(".//c:localDescription[@localType='field']/c:term",
                        namespaces=ns) == "力学 / aerospace engineering"
    assert [p.text for p in doc.findall(".//c:biogHist/c:p", ns)] == \
        ["钱学森 (1911–2009). 力学 / aerospace engineering."]


@needs_schemas
def test_eac_of_a_record_with_a_biography_and_only_a_death_date_validates(tmp_path):
    from archive.standards.eac import eac_document
    from archive.standards.records import ScientistRecord
    record = ScientistRecord("趙九章", "ZJZ", ("Chao Jiu-zhang", "赵九章"), died=1968,
                             biography="气象学家。\n\nHe led China's first satellite work.")
    out = tmp_path / "zjz.xml"
    out.write_bytes(eac_document(record, dt.datetime(2026, 12, 1, 12, 0)))
    assert_valid("eac-cpf/eac.xsd", out)
    ns = {"c": EAC}
    doc = etree.parse(str(out))
    assert [p.text for p in doc.findall(".//c:biogHist/c:p", ns)] == \
        ["气象学家。", "He led China's first satellite work."]  # the biography, no summary
    assert doc.find(".//c:existDates/c:dateRange/c:fromDate", ns) is None
    assert doc.find(".//c:nameEntry[@preferredForm='true']", ns).get("scriptOfElement") == \
        "Hant"


@needs_schemas
def test_a_biography_written_with_scientists_edit_is_the_eac_and_ead_biography(
        archive_site, tmp_path):
    catalog, _ = archive_site
    bio = "中国航天事业奠基人。\n\nHe returned to China in 1955."
    assert run(catalog, "scientists", "edit", "钱学森", "--biography", bio).exit_code == 0
    try:
        eac, ead = tmp_path / "eac.xml", tmp_path / "ead.xml"
        assert run(catalog, "export", "eac", "钱学森", "-o", str(eac)).exit_code == 0
        assert run(catalog, "export", "ead", "钱学森", "-o", str(ead)).exit_code == 0
        assert_valid("eac-cpf/eac.xsd", eac)
        assert_valid("eac-cpf/eac.rng", eac)
        assert_valid("ead3/ead3.xsd", ead)
        paras = ["中国航天事业奠基人。", "He returned to China in 1955."]
        eac_paras = etree.parse(str(eac)).findall(".//c:biogHist/c:p", {"c": EAC})
        assert [p.text for p in eac_paras] == paras
        assert [p.get("scriptOfElement") for p in eac_paras] == ["Hans", None]
        ead_paras = etree.parse(str(ead)).findall(".//e:archdesc/e:bioghist/e:p", {"e": EAD})
        assert [p.text for p in ead_paras] == paras
    finally:  # the module's other tests expect the summary
        assert run(catalog, "scientists", "edit", "钱学森", "--biography", "").exit_code == 0


# -- Dublin Core -----------------------------------------------------------------------------

def _dc_records(data: bytes) -> list[etree._Element]:
    root = etree.fromstring(data)
    assert root.tag == f"{{{OAI}}}OAI-PMH"
    return root.findall(f"{{{OAI}}}ListRecords/{{{OAI}}}record/{{{OAI}}}metadata/{{{OAI_DC}}}dc")


@needs_schemas
def test_dc_records_validate_and_hold_only_public_items(archive_site, tmp_path):
    """The file is an OAI-PMH ListRecords document: valid as a whole against OAI-PMH.xsd with
    oai_dc.xsd for the records (no wrapper of our own that no schema knows)."""
    catalog, _ = archive_site
    out = tmp_path / "dc.xml"
    assert run(catalog, "export", "dc", "-o", str(out)).exit_code == 0
    assert_valid("oai-pmh/OAI-PMH.xsd", out)
    records = _dc_records(out.read_bytes())
    root = etree.parse(str(out)).getroot()
    headers = root.findall(f"{{{OAI}}}ListRecords/{{{OAI}}}record/{{{OAI}}}header")
    assert len(headers) == len(records)
    first = headers[0]
    assert first.findtext(f"{{{OAI}}}identifier").startswith("oai:scientists-archive:")
    assert any(s.text.startswith("scientist:") for h in headers
               for s in h.findall(f"{{{OAI}}}setSpec"))
    for n, record in enumerate(records):
        one = tmp_path / f"record-{n}.xml"
        one.write_bytes(etree.tostring(record, xml_declaration=True, encoding="utf-8"))
        assert_valid("oai-pmh/oai_dc.xsd", one)
    ids = {r.findtext(f"{{{DC}}}identifier") for r in records}
    assert "QXS-L-00002" in ids and "ZJZ-A-00001" in ids
    assert "QXS-M-00001" not in ids and "QXS-L-00001" not in ids  # restricted, withdrawn
    assert "封存照片" not in {r.findtext(f"{{{DC}}}title") for r in records}
    letter = next(r for r in records if r.findtext(f"{{{DC}}}identifier") == "QXS-L-00002")
    title = letter.find(f"{{{DC}}}title")
    assert title.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-Hans"
    assert [t.text for t in letter.findall(f"{{{DC}}}type")] == ["Text", "letter"]
    oral = next(r for r in records if r.findtext(f"{{{DC}}}identifier") == "ZJZ-A-00001")
    assert oral.findtext(f"{{{DC}}}date") == "1981/1991"  # circa 1986, as an interval


def test_dc_for_a_query_selects_its_hits_public_only_even_when_restricted_match(
        archive_site):
    catalog, _ = archive_site
    result = run(catalog, "export", "dc", "scientist:钱学森 type:manuscript")
    assert result.exit_code == 0, result.output
    ids = {r.findtext(f"{{{DC}}}identifier") for r in _dc_records(result.stdout_bytes)}
    assert ids and all(i.startswith("QXS-M-") for i in ids)
    assert "QXS-M-00001" not in ids  # restricted
    staff = run(catalog, "export", "dc", "scientist:钱学森 type:manuscript",
                "--include-restricted")
    assert "QXS-M-00001" in {r.findtext(f"{{{DC}}}identifier")
                             for r in _dc_records(staff.stdout_bytes)}
    withdrawn = run(catalog, "export", "dc", "von Karman", "--include-restricted")
    assert _dc_records(withdrawn.stdout_bytes) == []


def test_dc_export_memory_stays_flat_as_the_catalog_grows(tmp_path):
    from archive.standards import source
    from archive.standards.dublin_core import write_dc
    from benchmarks.generators.records import generate
    peaks = []
    for n in (1000, 4000):
        cat = Catalog.open(catalog_settings(tmp_path / f"c{n}.db"))
        generate(cat, n)
        with cat.session() as s:
            tracemalloc.start()
            with open(os.devnull, "wb") as sink:
                count = write_dc(source.all_items(s, False), sink, "sqlite:///c.db",
                                 dt.datetime(2026, 12, 1))
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        cat.close()
        assert count > 0
    assert peaks[1] < peaks[0] * 1.5, f"peak grew from {peaks[0]} to {peaks[1]} bytes"


# -- BagIt and PREMIS ------------------------------------------------------------------------

@needs_schemas
def test_bag_is_valid_byte_identical_with_premis_and_dc_metadata(archive_site, tmp_path):
    import bagit
    catalog, coll = archive_site
    before = snapshot(coll)
    target = tmp_path / "bag"
    result = run(catalog, "export", "bag", "--scientist", "钱学森", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert snapshot(coll) == before  # originals only read
    bag = bagit.Bag(str(target))
    bag.validate()
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert bag.info["Payload-Oxum"]
    cat = Catalog.open(catalog_settings(catalog))
    with cat.session() as s:
        files = s.execute(select(Item.accession, File.path, File.sha256)
                          .join(Item, File.item_id == Item.id)
                          .where(Item.accession.like("QXS-%"), Item.access == "open",
                                 Item.withdrawn_at.is_(None))).all()
    cat.close()
    assert files
    for accession, path, sha in files:
        copy = target / "data" / "objects" / accession / path
        assert copy.read_bytes() == (coll / path).read_bytes(), path
        assert bag.entries[f"data/objects/{accession}/{path}"]["sha256"] == sha
        meta = target / "data" / "metadata" / accession
        assert_valid("premis/premis.xsd", meta / "premis.xml")
        assert_valid("oai-pmh/oai_dc.xsd", meta / "dc.xml")
        assert json.loads((meta / "record.json").read_text("utf-8"))["accession"] == accession
    bagged = {p.name for p in (target / "data" / "objects").iterdir()}
    assert "QXS-M-00001" not in bagged and "QXS-L-00001" not in bagged
    premis = etree.parse(str(target / "data/metadata/QXS-L-00002/premis.xml"))
    ns = {"p": PREMIS}
    assert "ingestion" in {e.text for e in premis.findall(".//p:event/p:eventType", ns)}
    digests = {d.text for d in premis.findall(".//p:fixity/p:messageDigest", ns)}
    assert digests == {sha for acc, _, sha in files if acc == "QXS-L-00002"}
    assert run(catalog, "verify-bag", str(target)).exit_code == 0


def test_bag_refuses_restricted_items_unless_asked(archive_site, tmp_path):
    catalog, _ = archive_site
    target = tmp_path / "bag"
    result = run(catalog, "export", "bag", "QXS-M-00001", "QXS-L-00002", "-o", str(target))
    assert result.exit_code == 2
    assert "QXS-M-00001 (restricted)" in result.output
    assert not target.exists()
    result = run(catalog, "export", "bag", "QXS-M-00001", "--include-restricted", "-o",
                 str(target))
    assert result.exit_code == 0, result.output
    assert (target / "data/objects/QXS-M-00001/钱学森/手稿/工程控制论_手稿_1954.pdf").is_file()
    withdrawn = run(catalog, "export", "bag", "QXS-L-00001", "--include-restricted", "-o",
                    str(tmp_path / "w"))
    assert withdrawn.exit_code == 2 and "QXS-L-00001 (withdrawn)" in withdrawn.output


def test_bag_of_a_changed_original_is_not_made(archive_site, tmp_path):
    catalog, coll = archive_site
    scan = coll / "Wang Ganchang" / "photos" / "dubna_1959.jpg"
    original = scan.read_bytes()
    try:
        scan.write_bytes(original[:-10] + b"0123456789")
        target = tmp_path / "bag"
        result = run(catalog, "export", "bag", "--scientist", "王淦昌", "-o", str(target))
        assert result.exit_code == 2
        assert "changed since it was catalogued" in result.output
        assert "dubna_1959.jpg" in result.output
        assert not target.exists()
    finally:
        scan.write_bytes(original)


def test_verify_bag_lists_every_problem_and_tells_a_non_bag(archive_site, tmp_path):
    catalog, _ = archive_site
    target = tmp_path / "bag"
    assert run(catalog, "export", "bag", "--scientist", "赵九章", "-o",
               str(target)).exit_code == 0
    assert run(catalog, "verify-bag", str(target)).exit_code == 0
    victim = next((target / "data" / "objects").rglob("*.jpg"))
    victim.write_bytes(victim.read_bytes() + b"!")
    (target / "data" / "objects" / "stray.txt").write_text("not in the manifest")
    result = run(catalog, "verify-bag", str(target))
    assert result.exit_code == 1
    assert victim.name in result.output and "stray.txt" in result.output
    assert run(catalog, "verify-bag", str(tmp_path)).exit_code == 2


def test_bag_copy_memory_does_not_grow_with_file_size(tmp_path):
    from archive.standards import source
    from archive.standards.bag import build_bag
    folder = tmp_path / "coll" / "zhang_san" / "audio"
    folder.mkdir(parents=True)
    big = folder / "long_interview.bin"
    with open(big, "wb") as fh:
        fh.writelines(os.urandom(1 << 20) for n in range(48))
    catalog = tmp_path / "c.db"
    run(catalog, "ingest", str(tmp_path / "coll"), "--quiet")
    cat = Catalog.open(catalog_settings(catalog))
    with cat.session() as s:
        accession = s.scalar(select(Item.accession))
        tracemalloc.start()
        summary = build_bag(s, source.items_by_accession(s, [accession], False,
                                                         with_events=True),
                            tmp_path / "bag", "test")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    cat.close()
    assert summary.bytes == 48 << 20
    assert peak < 8 << 20, f"peak {peak} bytes for a 48 MiB file"
    assert (tmp_path / "bag/data/objects" / accession / "zhang_san/audio/long_interview.bin"
            ).read_bytes() == big.read_bytes()


# -- the export group keeps the whole-catalog export ------------------------------------------

def test_export_without_a_subcommand_is_still_the_whole_catalog(archive_site, tmp_path):
    catalog, _ = archive_site
    result = run(catalog, "export")
    assert result.exit_code == 0
    first = json.loads(result.stdout.splitlines()[0])
    assert {"accession", "sha256", "path"} <= set(first)
    out = tmp_path / "all.csv"
    assert run(catalog, "export", "--format", "csv", "-o", str(out)).exit_code == 0
    assert out.read_text("utf-8-sig").startswith("accession,")  # a BOM or not
    wrong = run(catalog, "export", "-o", str(tmp_path / "x.xml"), "eac", "钱学森")
    assert wrong.exit_code == 2 and "belong to the whole-catalog export" in wrong.output
    assert not (tmp_path / "x.xml").exists()
