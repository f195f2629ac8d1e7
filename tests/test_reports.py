"""stats, export, show and scientists on the ingested demo collection."""
from __future__ import annotations

import csv
import io
import json
import os

import pytest

from archive.fields import EXPORT_KEYS
from tests.test_ingest import ingest_demo
from tests.catalogs import catalog_settings


@pytest.fixture
def ingested(cli, cli_json, demo):
    ingest_demo(cli, cli_json, demo)
    return demo


def test_stats_json(cli_json, ingested):
    code, stats = cli_json("stats")
    assert code == 0
    for key in ("items", "files", "by_type", "audio_minutes", "video_minutes", "scientists"):
        assert key in stats
    assert (stats["items"], stats["files"]) == (15, 20)
    assert stats["by_type"]["letter"] == {"items": 3, "files": 6, "seconds": 0.0}
    assert stats["by_type"]["audio"]["items"] == 2 and stats["by_type"]["audio"]["files"] == 4
    assert stats["by_type"]["audio"]["seconds"] == pytest.approx(50.0, abs=0.1)  # 20 s + 30 s
    assert stats["audio_minutes"] == pytest.approx(50 / 60, abs=0.05)
    assert stats["video_minutes"] == pytest.approx(5 / 60, abs=0.05)
    qian = next(s for s in stats["scientists"] if s["name"] == "钱学森")
    assert (qian["items"], qian["files"]) == (7, 10)
    assert qian["by_type"] == {"audio": 1, "letter": 2, "manuscript": 2, "photograph": 2}
    assert qian["audio_minutes"] == pytest.approx(20 / 60, abs=0.05)
    assert stats["duplicate_files"] == 1 and stats["files_with_problems"] == 1


def test_stats_duplicates_do_not_double_minutes(cli_json, cli, ingested):
    import shutil
    coll = ingested / "collection"
    shutil.copy(coll / "钱学森" / "录音" / "访谈_1990_第一部分.wav", coll / "钱学森" / "copy.wav")
    cli_json("ingest", str(coll), "--manifest", str(coll / "manifest.csv"))
    _, stats = cli_json("stats")
    assert stats["by_type"]["audio"]["seconds"] == pytest.approx(50.0, abs=0.1)


@pytest.mark.parametrize("by", ["type", "scientist", "year"])
def test_stats_tables(cli, ingested, by):
    result = cli("stats", "--by", by)
    assert result.exit_code == 0
    assert "Items: 15" in result.stdout
    if by == "year":
        assert "1956" in result.stdout and "undated" in result.stdout
    else:
        assert "钱学森" in result.stdout


def test_stats_by_year_json(cli_json, ingested):
    _, stats = cli_json("stats", "--by", "year")
    assert stats["by_year"]["1956"] == 2 and stats["by_year"]["1954"] == 1


@pytest.mark.sqlite_only("a catalog file that does not exist (a server's database always does)")
def test_stats_without_catalog_is_a_clear_error(cli):
    result = cli("stats")
    assert result.exit_code == 2 and "no catalog at" in result.stderr


def test_export_jsonl(cli, ingested):
    result = cli("export")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 20
    assert all(tuple(r) == EXPORT_KEYS for r in records)
    photo = next(r for r in records if r["path"] == "钱学森/照片/力学所_1956.jpg")
    assert (photo["type"], photo["scientist"], photo["camera_make"], photo["width"],
            photo["mime"], photo["role"], photo["date_taken"]) == (
        "photograph", "钱学森", "Leica", 1024, "image/jpeg", "master", "1956-10-08T14:20:00")
    assert photo["root"].endswith("collection") and len(photo["sha256"]) == 64
    wav = next(r for r in records if r["path"].endswith(".wav"))
    assert wav["duration_seconds"] == pytest.approx(20.0, abs=0.05)
    letter_txt = next(r for r in records if r["path"].endswith("致陈赓_1956_02_17.txt"))
    assert letter_txt["text_excerpt"].startswith("陈赓同志") and letter_txt["role"] == "transcript"
    copy = next(r for r in records if r["path"].endswith("dubna_1959_copy.jpg"))
    assert copy["duplicate_of"] == "Wang Ganchang/photos/dubna_1959.jpg"
    broken = next(r for r in records if r["path"].endswith("damaged_scan_truncated.jpg"))
    assert broken["problem"].startswith("truncated")
    pdf = next(r for r in records if r["path"].endswith(".pdf"))
    assert (pdf["pages"], pdf["access"], pdf["date"]) == (2, "restricted", "1954")


def test_export_csv_to_file(cli, ingested, tmp_path):
    out = tmp_path / "catalog.csv"
    result = cli("export", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0 and "Exported 20 files" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(rows) == 20 and tuple(rows[0]) == EXPORT_KEYS


def test_show(cli, cli_json, ingested):
    export = [json.loads(x) for x in cli("export").stdout.splitlines()]
    accession = next(r["accession"] for r in export if r["path"].endswith("致陈赓_1956_02_17.jpg"))
    code, item = cli_json("show", accession)
    assert code == 0 and item["title"] == "钱学森致陈赓信（关于建立力学研究所）"
    assert [f["role"] for f in item["files"]] == ["master", "transcript", "page"]
    assert {e["kind"] for e in item["events"]} >= {"ingestion", "message digest calculation",
                                                   "metadata extraction"}
    text = cli("show", accession).stdout
    assert "Epson" in text and "events" in text


def test_show_unknown_accession(cli, ingested):
    result = cli("show", "NOPE-1")
    assert result.exit_code == 2 and "no item with accession number 'NOPE-1'" in result.stderr


def test_scientists_import_list_and_matching(cli, cli_json, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("name,variants,born,died,field\n钱学森,Qian Xuesen;Tsien Hsue-shen;錢學森,1911,"
                 "2009,力学\n赵九章,Zhao Jiuzhang,1907,1968,\n", encoding="utf-8-sig")
    result = cli("scientists", "import", str(f))
    assert result.exit_code == 0 and "Imported 2 new" in result.stdout
    assert "updated 2" in cli("scientists", "import", str(f)).stdout
    code, rows = cli_json("scientists", "list")
    qian = next(r for r in rows if r["name"] == "钱学森")
    assert set(qian["variants"]) == {"Qian Xuesen", "Tsien Hsue-shen", "錢學森"}
    assert (qian["born"], qian["died"], qian["code"]) == (1911, 2009, "QXS")
    from archive.catalog import Catalog
    from archive.scientists import ScientistMatcher
    catalog = Catalog.open(catalog_settings(tmp_path / "catalog.db"))
    with catalog.session() as s:
        m = ScientistMatcher(s)
        ids = {m.match(n) for n in ("钱学森", "錢學森", "Qian Xuesen", "qianxuesen",
                                    "Tsien Hsue-shen", "TSIEN HSUE SHEN", "xuesen qian")}
        assert len(ids) == 1 and None not in ids
        assert m.match("赵九章") != m.match("钱学森")
        assert m.match("钱三强") is None


def test_scientists_import_bad_rows(cli, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("name,born\n,1900\n钱学森,nineteen\n", encoding="utf-8")
    result = cli("scientists", "import", str(f))
    assert result.exit_code == 2
    assert "row 2: the name is empty" in result.stderr
    assert "row 3: born 'nineteen' is not a year" in result.stderr


def test_scientists_import_missing_column(cli, tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("who,born\nx,1900\n", encoding="utf-8")
    result = cli("scientists", "import", str(f))
    assert result.exit_code == 2 and "lacks the column(s) name" in result.stderr


def test_export_csv_is_the_exhibit_csv(cli, tmp_path):
    """#12.9: `archive export --format csv` goes through the one CSV writer: a BOM for Excel,
    text that would run as a formula made inert, numbers still numbers, to a file and to
    standard output alike."""
    from benchmarks.generators.samples import make_jpeg
    from tests.conftest import write_manifest
    folder = tmp_path / "coll"
    make_jpeg(folder / "信件" / "letter.jpg")
    evil = '=HYPERLINK("http://evil.example","点我")'
    manifest = write_manifest(tmp_path / "m.csv", [["path", "title"], ["信件/letter.jpg", evil]])
    assert cli("ingest", str(folder), "--manifest", str(manifest)).exit_code == 0
    out = tmp_path / "catalog.csv"
    assert cli("export", "--format", "csv", "-o", str(out)).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "信件".encode() in raw
    for text in (raw.decode("utf-8"), cli("export", "--format", "csv").stdout):
        assert text.startswith("\ufeff")  # the BOM on standard output too
        (row,) = csv.DictReader(io.StringIO(text[1:]))
        assert row["title"] == "'" + evil and row["type"] == "letter"
        assert row["size"] == str(os.path.getsize(folder / "信件" / "letter.jpg"))
        assert row["width"] == "640" and row["duration_seconds"] == ""
