"""The real-world corpus in ../shared/corpus: every file catalogued or reported, none lost, and
the basic facts agree with what independent tools measured (SOURCES.csv)."""
from __future__ import annotations

import csv
import re

import pytest
from sqlalchemy import select

from archive.catalog import Catalog
from archive.models import File, FileText, Item
from archive.stats import catalog_stats
from search.searcher import SearchOptions, search
from ingest.pipeline import ingest
from tests.conftest import CORPUS
from tests.catalogs import catalog_settings

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CORPUS / "SOURCES.csv").exists(),
                                 reason="../shared/corpus is not present")]

# Good files whose facts we cannot match, and why (each checked by hand).
EXPLAINED = {
    "audio/mutagen/adif.aac": "ADIF AAC: FFmpeg has no ADIF demuxer (ffprobe fails too)",
    "documents/chardet/EUC-TW_ude_euc-tw1.txt": "EUC-TW: Python has no codec for it",
    "images/pillow/ultrahdr.jpg": "really truncated: Pillow's full decode fails too",
    "images/exif-py/test_0001.jxl": "JPEG XL: identified, but Pillow has no JPEG XL reader",
    "images/filetype/sample.jxl": "JPEG XL: identified, but Pillow has no JPEG XL reader",
    "images/exiftool/ExifTool.jpg": "EXIF IFD0 says FUJIFILM FinePix2400Zoom; ExifTool "
                                    "reports the Canon values of a later metadata block",
    "images/exif-py/Reconyx_HC500_Hyperfire.jpg": "the date is only in the Reconyx MakerNote, "
                                                  "which exifread does not decode",
    "video/pymediainfo/sample.mp4": "video starts 0.083 s in (edit list) and ends at 1.042 s; "
                                    "FFmpeg 5.1 left the offset out (0.980 s), FFmpeg 7 counts it",
}


def expected_facts(text: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    m = re.search(r"ffprobe [\d.]+: format=[^|]*?duration=([\d.]+)s", text)
    if m:
        facts["duration"] = m.group(1)
    m = re.search(r"exiftool [\d.]+: ([^|]*)", text)
    if m:
        for part in m.group(1).split(";"):
            if "=" in part:
                k, v = part.strip().split("=", 1)
                facts.setdefault(k, v.strip())
    return facts


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    settings = catalog_settings(folder / "catalog.db", jobs=2, file_timeout=60.0)
    catalog = Catalog.open(settings)
    report = ingest(catalog, [str(CORPUS)])
    yield catalog, report
    catalog.close()


@pytest.fixture(scope="module")
def corpus_catalog(corpus_db):
    catalog, report = corpus_db
    with open(CORPUS / "SOURCES.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with catalog.session() as s:
        files = {f.path: f for f in s.scalars(select(File))}
        texts = {t.file_id: t.text for t in s.scalars(select(FileText))}
        s.expunge_all()
    return report, rows, files, texts


def test_every_file_catalogued_or_reported(corpus_catalog):
    report, rows, files, _ = corpus_catalog
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    reported = {p["path"] for p in report.problems}
    lost = on_disk - set(files) - reported
    assert lost == set()
    assert report.seen == len(on_disk) and report.new == len(on_disk)
    assert {r["path_in_corpus"] for r in rows} <= set(files)


# Files tagged as broken in SOURCES.csv that are, for what we read, not broken (checked).
BAD_BUT_READABLE = {
    "images-bad/pillow/decompression_bomb.ico": "16x16 in its header, under our pixel limit "
                                                "(Pillow's test lowers the limit to trip it)",
    "images-bad/pillow/decompression_bomb_extents.gif": "the bomb is in later frames' extents; "
                                                        "we read headers, never frames",
    "audio-bad/mutagen/truncated-64bit.mp4": "claims 0.307 s and its data reaches 0.307 s",
    "audio-bad/tinytag/cut_off_titles.mp3": "claims no length beyond the 0.03 s it holds",
    "documents-bad/pdfminer/encrypted_doc_no_id.pdf": "opens with the empty user password; "
                                                      "recorded as a warning",
    "documents-bad/ocrmypdf/hugemono.pdf": "a bomb only for renderers; we read text and pages",
}
_BROKEN_TAGS = ("TRUNCATED", "ZERO-BYTE", "DECOMPRESSION BOMB", "ENCRYPTED", "FUZZED")


def test_bad_files_are_reported_with_reasons(corpus_catalog):
    _, rows, files, _ = corpus_catalog
    unflagged = []
    for r in rows:
        path = r["path_in_corpus"]
        f = files[path]
        if f.problem:
            assert f.problem_stage in ("identify", "extract", "read")
            assert re.match(r"^[a-z][a-z -]*: \S", f.problem), f.problem  # "<code>: <what>"
        elif any(tag in r["what_it_is"] for tag in _BROKEN_TAGS) and path.split("/")[0] \
                .endswith("-bad") and path not in BAD_BUT_READABLE and \
                "FUZZED" not in r["what_it_is"]:
            unflagged.append((path, r["what_it_is"][:80]))
    assert unflagged == [], "\n".join(map(str, unflagged))


def test_good_files_yield_metadata(corpus_catalog):
    _, rows, files, texts = corpus_catalog
    missing = []
    for r in rows:
        path = r["path_in_corpus"]
        kind = path.split("/")[0]
        if kind.endswith("-bad") or path in EXPLAINED:
            continue
        f = files[path]
        if kind == "images" and f.mime and f.mime.startswith("image/") and not f.width:
            missing.append((path, "no dimensions", f.problem))
        if kind in ("audio", "video") and not f.duration and "MIDI" not in r["what_it_is"]:
            missing.append((path, "no duration", f.problem))
        if f.problem:
            missing.append((path, "problem", f.problem))
    assert missing == [], "\n".join(map(str, missing))


def test_facts_agree_with_independent_tools(corpus_catalog):
    _, rows, files, texts = corpus_catalog
    disagreements = []
    for r in rows:
        path = r["path_in_corpus"]
        if path.split("/")[0].endswith("-bad") or path in EXPLAINED:
            continue
        f, facts = files[path], expected_facts(r["expected"])
        if "duration" in facts and f.duration is not None:
            want = float(facts["duration"])
            if abs(f.duration - want) > max(0.05, 0.01 * want):
                disagreements.append((path, "duration", f.duration, want))
        if path.startswith("images/") and f.width and "ImageWidth" in facts \
                and facts.get("FileType") in ("JPEG", "PNG", "TIFF", "GIF", "BMP", "WEBP") \
                and (str(f.width), str(f.height)) != (facts["ImageWidth"],
                                                      facts.get("ImageHeight")):
            disagreements.append((path, "size", (f.width, f.height),
                                  (facts["ImageWidth"], facts.get("ImageHeight"))))
        if path.startswith("images/") and facts.get("FileType") == "JPEG" and f.problem is None:
            if "Orientation" in facts and str(f.orientation or 1) != facts["Orientation"]:
                disagreements.append((path, "orientation", f.orientation, facts["Orientation"]))
            # ExifTool may add sub-seconds and a zone from maker notes; EXIF itself has neither.
            if "DateTimeOriginal" in facts and (f.date_taken or "") != \
                    facts["DateTimeOriginal"][:19].replace(":", "-", 2).replace(" ", "T"):
                disagreements.append((path, "date_taken", f.date_taken,
                                      facts["DateTimeOriginal"]))
            for ours, theirs in ((f.gps_lat, "GPSLatitude"), (f.gps_lon, "GPSLongitude")):
                if theirs in facts and (ours is None or abs(ours - float(facts[theirs])) > 1e-4):
                    disagreements.append((path, theirs, ours, facts[theirs]))
        for ours, theirs in (("camera_make", "Make"), ("camera_model", "Model")):
            if path.startswith("images/") and theirs in facts and \
                    facts.get("FileType") == "JPEG" and \
                    (getattr(f, ours) or "").strip() != facts[theirs].strip():
                disagreements.append((path, ours, getattr(f, ours), facts[theirs]))
    assert disagreements == [], "\n".join(map(str, disagreements))


def test_rotation_and_repaired_chinese_tags(corpus_catalog):
    _, _, files, _ = corpus_catalog
    assert files["video/moviepy/fire2.mp4"].tech["rotation"] == 180  # moviepy's own test
    tags = files["audio-bad/tinytag/chinese_id3.mp3"].tech["tags"]
    assert (tags["title"], tags["artist"]) == ("角落之歌", "苏云")
    assert files["images-bad/exif-py/heic_hdlr_box.jpg"].tech["format_mismatch"].startswith(
        "named .jpg but the content is image/heic")


def test_chinese_pdf_text(corpus_catalog):
    _, _, files, texts = corpus_catalog
    f = files["documents/pypdf/issue-914-xmp-data.pdf"]
    assert f.pages and f.problem is None
    for path in ("documents/pdfminer/issue_566_test_1.pdf",
                 "documents/pdfplumber/issue-71-duplicate-chars.pdf"):
        text = texts.get(files[path].id, "")
        assert re.search(r"[\u4e00-\u9fff]", text), path


def test_cut_short_media_count_only_what_they_hold(corpus_db, corpus_catalog):
    """#12.2: headers of files cut short claim hours; the programme's minutes count only the
    data present, and the claim stays in the technical metadata."""
    catalog, _ = corpus_db
    _, _, files, _ = corpus_catalog
    nero = files["audio-bad/mutagen/nero-chapters.m4b"]  # 80 KB claiming 46:57:03
    assert nero.problem.startswith("truncated") and nero.duration is None
    assert nero.tech["claimed_duration"] == pytest.approx(169022.7, abs=0.1)
    vbri = files["audio-bad/mutagen/vbri.mp3"]  # claims 222 s, holds 0.4 s
    assert vbri.duration == pytest.approx(0.44, abs=0.05)
    assert vbri.tech["claimed_duration"] == pytest.approx(222.2, abs=0.1)
    for f in files.values():
        if f.problem and f.problem.startswith("truncated") and f.duration is not None:
            assert f.duration < f.tech["claimed_duration"], f.path
    with catalog.session() as s:
        seconds = dict(s.execute(select(File.path, Item.seconds)
                                 .join(Item, Item.id == File.item_id)).all())
        nero_accession = s.scalar(select(Item.accession).join(File, File.item_id == Item.id)
                                  .where(File.path == "audio-bad/mutagen/nero-chapters.m4b"))
        stats = catalog_stats(s)
    assert seconds["audio-bad/mutagen/nero-chapters.m4b"] is None
    assert seconds["audio-bad/mutagen/vbri.mp3"] == pytest.approx(0.44, abs=0.05)
    assert stats["audio_minutes"] < 120  # was 2,834.8 with the headers' claims
    long = search(catalog, SearchOptions(query="duration:>1h", limit=500))
    assert nero_accession not in {h["accession"] for h in long.hits}
