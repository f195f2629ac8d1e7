"""`archive ocr` and `archive ingest --ocr` on real scans from the shared corpus: what is read,
stored, skipped, reported; resuming after kill -9; Ctrl-C."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from archive.models import Change, Event, File, OcrLine, OcrPage, WorkClaim
from benchmarks.generators.samples import make_pdf
from ingest.ocr import page_count, parse_types
from archive.errors import UsageError
from tests.conftest import CORPUS
from tests.test_concurrency import finish, needs_pg, rows, start_ingest
from tests.test_resilience import count, wait_for

OCR = CORPUS / "ocr"
needs_corpus = pytest.mark.skipif(not (OCR / "SOURCES.csv").is_file(),
                                  reason="the shared OCR corpus (shared/corpus/ocr) is absent")
KEYS = {"pages", "lines", "characters", "skipped", "problems", "seconds", "pages_per_second"}
LINE_1 = "网络支付并无本质的区别，因为"


@pytest.mark.parametrize("words, expected", [
    ((), ("letter", "manuscript", "document")),
    (("photograph", "手稿"), ("photograph", "manuscript")),
    (("信件", "letter"), ("letter",)),
])
def test_parse_types(words, expected):
    assert parse_types(words) == expected


@pytest.mark.parametrize("word", ["audio", "nonsense"])
def test_parse_types_refuses_what_cannot_be_read(word):
    with pytest.raises(UsageError):
        parse_types([word])


@pytest.mark.parametrize("kind, pages, expected", [
    ("image", None, 1), ("image", 3, 3), ("pdf", 12, 12), ("pdf", None, 0), ("audio", None, 0),
])
def test_page_count(kind, pages, expected):
    assert page_count(kind, pages) == expected


def collection(folder: Path) -> Path:
    """Letters (a screenshot-like scan, a line upside down, an image-only PDF, a typed PDF),
    a photograph with no text."""
    letters = folder / "信件"
    letters.mkdir(parents=True)
    shutil.copy(OCR / "cnocr" / "multi-line_cn1.png", letters / "letter.png")
    shutil.copy(OCR / "rapidocr" / "text_cls.jpg", letters / "upside_down.jpg")
    Image.open(OCR / "cnocr" / "multi-line_cn1.png").convert("RGB").save(
        letters / "scan.pdf", "PDF", resolution=100)
    make_pdf(letters / "typed.pdf", ["钱学森致函导弹研究所，请查收附件。"])
    (folder / "照片").mkdir()
    shutil.copy(OCR / "exif-py" / "canon-ixus.jpg", folder / "照片" / "wedding.jpg")
    return folder


@needs_corpus
def test_ocr_reads_stores_and_skips(cli, cli_json, catalog, tmp_path):
    cli("ingest", str(collection(tmp_path / "coll")), "--quiet")
    code, report = cli_json("ocr")
    assert code == 0 and set(report) == KEYS
    # the PNG, the JPEG and the scanned PDF's page; the typed PDF page keeps its text layer
    assert (report["pages"], report["skipped"], report["problems"]) == (3, 1, [])
    assert report["lines"] == 7 + 1 + 7 and report["characters"] > 150
    assert report["pages_per_second"] > 0
    with catalog.session() as s:
        files = {f.path: f.id for f in s.scalars(select(File))}
        pages = {(p.file_id, p.page): p for p in s.scalars(select(OcrPage))}
        first = s.scalars(select(OcrLine).join(OcrPage).where(
            OcrPage.file_id == files["信件/letter.png"], OcrLine.line_no == 1)).one()
        events = s.scalars(select(Event).where(Event.kind == "metadata extraction",
                                               Event.tool.like("rapidocr%"))).all()
        changed = {c.item_id for c in s.scalars(select(Change))}
        items = {f.path: f.item_id for f in s.scalars(select(File))}
    assert first.text == LINE_1 and first.w > 200 and first.confidence > 0.9
    assert pages[(files["信件/upside_down.jpg"], 1)].rotation == 180
    assert pages[(files["信件/typed.pdf"], 1)].status == "text-layer"
    assert (files["照片/wedding.jpg"], 1) not in pages  # photographs only on request
    scan = pages[(files["信件/scan.pdf"], 1)]
    assert (scan.status, scan.width, scan.height) == ("read", 600, 374)
    assert {p.engine.split()[0] for p in pages.values()} == {"rapidocr"}
    assert len(events) == 4 and all("PP-OCRv6" in e.detail for e in events)
    assert {items["信件/letter.png"], items["信件/scan.pdf"]} <= changed
    # a second run reads nothing again; --force reads again; photographs on request
    assert cli_json("ocr")[1]["pages"] == 0
    again = cli_json("ocr", "--force")[1]
    assert (again["pages"], again["skipped"]) == (3, 1)
    with catalog.session() as s:
        # read again in place, not twice: the old lines went with their page
        assert (s.query(OcrPage).count(), s.query(OcrLine).count()) == (4, 7 + 1 + 7)
    photos = cli_json("ocr", "--type", "photograph")[1]
    assert (photos["pages"], photos["lines"]) == (1, 0)


@needs_corpus
def test_a_page_that_cannot_be_read_is_a_problem_and_exit_1(cli, cli_json, tmp_path):
    letters = tmp_path / "coll" / "信件"
    letters.mkdir(parents=True)
    shutil.copy(OCR / "cnocr" / "multi-line_cn1.png", letters / "good.png")
    cli("ingest", str(tmp_path / "coll"), "--quiet")
    # replaced after ingest by bytes no decoder reads (fixity would notice; OCR must not crash)
    (letters / "good.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500))
    code, report = cli_json("ocr")
    assert code == 1 and report["pages"] == 0
    assert [(p["path"], p["page"]) for p in report["problems"]] == [("信件/good.png", 1)]
    result = cli("ocr")
    assert result.exit_code == 1 and "信件/good.png page 1" in result.stdout


@needs_corpus
def test_limit_and_ingest_ocr(cli, cli_json, tmp_path):
    folder = collection(tmp_path / "coll")
    result = cli("ingest", str(folder), "--ocr", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["new"] == 5 and set(out["ocr"]) == KEYS and out["ocr"]["pages"] == 3
    assert cli_json("ocr", "--force", "--limit", "1")[1]["pages"] == 1


def start(catalog: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "ARCHIVE_JOBS": "1"}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", str(catalog), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def many_letters(folder: Path, n: int) -> Path:
    letters = folder / "信件"
    letters.mkdir(parents=True)
    data = (OCR / "cnocr" / "multi-line_cn1.png").read_bytes()
    for i in range(n):  # distinct bytes after the PNG's end: distinct files, same picture
        (letters / f"letter_{i:02d}.png").write_bytes(data + i.to_bytes(4, "big"))
    return folder


@needs_corpus
@pytest.mark.slow
@pytest.mark.sqlite_only("counts the stored pages in the catalog file while the command runs")
def test_resumes_after_kill_9_reading_each_remaining_page_once(cli, tmp_path):
    catalog = tmp_path / "catalog.db"
    cli("ingest", str(many_letters(tmp_path / "coll", 8)), "--quiet")
    proc = start(catalog, "ocr", "--quiet")
    try:
        wait_for(lambda: count(catalog, "select count(*) from ocr_pages") >= 2, timeout=300)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    stored = count(catalog, "select count(*) from ocr_pages")
    assert 2 <= stored < 8
    rest = start(catalog, "ocr", "--json")
    out, err = rest.communicate(timeout=600)
    assert rest.returncode == 0, err
    assert json.loads(out)["pages"] == 8 - stored and json.loads(out)["skipped"] == stored
    con = sqlite3.connect(catalog)
    try:
        rows = con.execute("select file_id, count(*) from ocr_pages group by file_id").fetchall()
        lines = con.execute("select count(*) from ocr_lines").fetchone()[0]
    finally:
        con.close()
    assert len(rows) == 8 and {n for _, n in rows} == {1} and lines == 8 * 7


@needs_corpus
@pytest.mark.slow
@pytest.mark.sqlite_only("counts the stored pages in the catalog file while the command runs")
def test_ctrl_c_stops_ocr_cleanly_with_exit_130(cli, tmp_path):
    catalog = tmp_path / "catalog.db"
    cli("ingest", str(many_letters(tmp_path / "coll", 8)), "--quiet")
    proc = start(catalog, "ocr", "--json")
    try:
        wait_for(lambda: count(catalog, "select count(*) from ocr_pages") >= 1, timeout=300)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    partial = json.loads(out)
    assert set(partial) == KEYS and partial["problems"] == [] and 1 <= partial["pages"] < 8


@needs_corpus
def test_a_second_run_leaves_the_files_another_holds_to_it(cli_json, catalog, tmp_path):
    """Two runs at once share the work (archive/claims.py): files another run has claimed are
    left to it, and this run waits until that run has read them."""
    import threading
    from archive.claims import Claims
    cli_json("ingest", str(many_letters(tmp_path / "coll", 3)))
    with catalog.session() as s:
        ids = list(s.scalars(select(File.id).order_by(File.id)))
    other = Claims(catalog, "ocr", 30.0, holder="elsewhere:1")
    assert other.take(ids[:1]) == ids[:1]

    finishing: list[float] = []

    def finish() -> None:  # the other run stores its page and marks its file done
        finishing.append(time.monotonic())
        with catalog.session() as s:
            s.add(OcrPage(file_id=ids[0], page=1, engine="rapidocr 0", model="other",
                          status="read"))
            other.done(s, ids[:1])
    timer = threading.Timer(2.0, finish)
    timer.start()
    code, report = cli_json("ocr")
    returned = time.monotonic()
    timer.join()
    assert code == 0 and (report["pages"], report["problems"]) == (2, [])
    # It waited for the other run to finish its file: it returned after the other began to
    # (its own clock, which began after the other's timer, could not show that under load).
    assert finishing and finishing[0] <= returned
    with catalog.session() as s:
        read = sorted(p.file_id for p in s.scalars(select(OcrPage).where(
            OcrPage.model != "other")))
        claims = {c.file_id: c.holder for c in s.scalars(select(WorkClaim))}
    assert read == ids[1:]
    assert claims[ids[0]] == "elsewhere:1" and claims[ids[1]] != "elsewhere:1"


def test_the_demo_letter_scan_is_read(cli_json, catalog, tmp_path):
    """The generator prints real Chinese on the demo's letter page 2 (a font from the test
    extra), words its transcription does not have; the OCR reads them."""
    from benchmarks.generators.samples import SCANNED_PAGE, cjk_font, make_jpeg
    if cjk_font(20) is None:
        pytest.skip("no CJK font to print the scan with (pip install paperang-p2-fonts-cjk)")
    make_jpeg(tmp_path / "coll" / "信件" / "p2.jpg", (900, 1200), lines=SCANNED_PAGE)
    cli_json("ingest", str(tmp_path / "coll"))
    code, report = cli_json("ocr")
    assert code == 0 and report["pages"] == 1
    with catalog.session() as s:
        text = [line.text for line in s.scalars(select(OcrLine).order_by(OcrLine.line_no))]
    assert text[1:] == list(SCANNED_PAGE[1:]) and "风洞" in text[1]


def start_ocr(url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "ARCHIVE_JOBS": "1", "ARCHIVE_LEASE_SECONDS": "3"}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", url, "ocr", "--json",
                             "--quiet", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True, start_new_session=True)


@needs_corpus
@needs_pg
@pytest.mark.slow
def test_three_postgres_ocr_runs_one_killed_read_every_page_once(tmp_path, postgres_url,
                                                                  monkeypatch):
    """#18: three `archive ocr` at once against one PostgreSQL catalog share its pages; the one
    killed with -9 half-way gives back what it held when its lease runs out, and every page
    is read exactly once, none lost."""
    monkeypatch.chdir(tmp_path)  # the index and derivatives of a server catalog: made here
    pg_url, n = postgres_url, 24
    finish(start_ingest(pg_url, many_letters(tmp_path / "coll", n)))
    procs = [start_ocr(pg_url) for _ in range(3)]
    victim = procs[0]
    mine = f"select count(done_at), count(*) from work_claims where holder like '%:{victim.pid}'"
    try:
        deadline = time.monotonic() + 600
        while (rows(pg_url, mine) or [(0, 0)])[0][0] < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    held = rows(pg_url, mine)[0]
    reports = []
    for proc in procs[1:]:
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    assert all(r["problems"] == [] for r in reports)
    assert rows(pg_url, "select status, count(*) from ocr_pages group by status") \
        == [("read", n)]
    assert rows(pg_url, "select count(*) from ocr_lines") == [(n * 7,)]
    # Each page read once: one event per file (each is one page, stored with its event in one
    # transaction), and the pages the survivors read plus those the dead one finished are all.
    events = rows(pg_url, "select file_id, count(*) from events where kind = "
                          "'metadata extraction' and tool like 'rapidocr%' group by file_id")
    assert len(events) == n and {c for _, c in events} == {1}
    assert held[0] + sum(r["pages"] for r in reports) == n
    assert held[0] < n
    # Every file claimed once and done; the dead one's unfinished claims were taken back.
    assert rows(pg_url, "select count(*), count(done_at) from work_claims where kind = 'ocr'") \
        == [(n, n)]
    again = start_ocr(pg_url)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert (json.loads(out)["pages"], json.loads(out)["skipped"]) == (0, n)


@needs_corpus
def test_ocr_reads_a_root_mounted_elsewhere_through_root_map(cli_json, tmp_path, monkeypatch):
    """#18: on a machine that mounts the collection at another path, `root_map` says where."""
    catalogued = tmp_path / "srv" / "archive"
    cli_json("ingest", str(many_letters(catalogued, 2)))
    mounted = tmp_path / "mnt" / "archive"
    mounted.parent.mkdir()
    catalogued.rename(mounted)
    code, report = cli_json("ocr")
    assert code == 1 and len(report["problems"]) == 2  # not where they were catalogued
    monkeypatch.setenv("ARCHIVE_ROOT_MAP", f"{catalogued}={mounted}")
    code, report = cli_json("ocr")
    assert code == 0 and (report["pages"], report["problems"]) == (2, [])
