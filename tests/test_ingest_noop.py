"""A re-run that finds nothing to do is told and recorded in plain SQL (ingest/noop.py, #13.8):
the same report and the same rows as the full ingest's, without the catalog's models; and
anything that would change the catalog is left to the full ingest, with nothing written."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.errors import Interrupted
from archive.runs import get_run
from benchmarks.generators.samples import make_jpeg, make_pdf, make_wav
from ingest.noop import noop_run
from ingest.options import IngestOptions
from ingest.pipeline import ingest
from tests.catalogs import catalog_env, catalog_rows, catalog_settings, catalog_url
from tests.test_startup import ARCHIVE, imported_by

@contextmanager
def opened(settings) -> Iterator[Catalog]:
    catalog = Catalog.open(settings)
    try:
        yield catalog
    finally:
        catalog.close()


sqlite_only = pytest.mark.sqlite_only("the plain-SQL re-run reads an SQLite catalog file")


def _collection(base: Path) -> Path:
    """Real files in folders as an archivist keeps them, with junk the walk passes over."""
    root = base / "collection"
    letters = root / "钱学森" / "信件"
    letters.mkdir(parents=True)
    make_jpeg(letters / "letter_1956_p1.jpg")
    make_jpeg(letters / "letter_1956_p2.jpg")
    make_pdf(letters / "report_1957.pdf", ["Report on rocket engines", "第二页"])
    (letters / ".DS_Store").write_bytes(b"\0junk")
    (root / "钱学森" / "notes.txt").write_text("Notes on rocket engines.", encoding="utf-8")
    for i in range(3):
        box = root / "Wang Ganchang" / "audio" / f"box{i}"
        box.mkdir(parents=True)
        make_wav(box / f"interview_{i}.wav", seconds=0.5)
    (root / "Wang Ganchang" / "Thumbs.db").write_bytes(b"junk")
    return root


@pytest.fixture
def catalogued(tmp_path: Path, settings) -> Path:
    root = _collection(tmp_path)
    with opened(settings) as catalog:
        ingest(catalog, [str(root)])
    return root


def _runs(catalog_path: Path) -> int:
    return catalog_rows(catalog_path, "SELECT count(*) FROM ingest_runs")[0][0]


@sqlite_only
def test_the_rerun_reports_and_records_what_the_full_ingest_does(catalogued, settings,
                                                                  catalog_path):
    quick = noop_run(settings, [str(catalogued)], IngestOptions())
    assert quick is not None
    with opened(settings) as catalog:
        full = ingest(catalog, [str(catalogued)])
        with catalog.session() as s:
            quick_run, full_run = get_run(s, quick.run_id or 0), get_run(s, full.run_id or 0)
    assert (quick.seen, quick.unchanged, quick.done, quick.new, quick.changed) == (7, 7, 7, 0, 0)

    def same(report: dict) -> dict:
        return {k: v for k, v in report.items() if k not in ("run", "seconds",
                                                             "files_per_second")}
    assert same(quick.to_json()) == same(full.to_json())
    assert {s["reason"] for s in quick.skipped} == {"system junk"}
    assert quick.exit_code == 0
    # The rows: what `archive runs` lists and `archive runs show` prints again.
    for a, b in ((quick_run, full_run),):
        assert (a.summary.kind, a.summary.status, a.summary.roots, a.summary.options) == \
            (b.summary.kind, b.summary.status, b.summary.roots, b.summary.options)
        assert {k: v for k, v in (a.summary.counts or {}).items() if k != "seconds"} == \
            {k: v for k, v in (b.summary.counts or {}).items() if k != "seconds"}
        assert a.problems == b.problems and a.events == b.events == {}
        assert a.summary.finished_at is not None and \
            a.summary.started_at <= a.summary.finished_at


@sqlite_only
def test_a_rerun_from_the_command_line_loads_neither_the_models_nor_the_parsers(
        tmp_path: Path, catalogued, catalog_path, monkeypatch):
    for name, value in catalog_env(catalog_path).items():
        monkeypatch.setenv(name, value)
    args = ("--catalog", catalog_url(catalog_path), "ingest", str(catalogued), "--quiet")
    loaded = imported_by(*args)
    assert loaded & {"sqlalchemy", "PIL", "av", "pypdfium2", "pebble", "tantivy", "whoosh",
                     "alembic", "rich"} == set()
    before = _runs(catalog_path)
    done = subprocess.run([str(ARCHIVE), *args, "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["unchanged"] == 7 and _runs(catalog_path) == before + 1
    # Something to do: the full ingest runs, models and all.
    make_jpeg(catalogued / "钱学森" / "信件" / "letter_1956_p3.jpg")
    assert "sqlalchemy" in imported_by(*args)


def _added(root: Path) -> None:
    make_jpeg(root / "钱学森" / "信件" / "letter_1956_p3.jpg")


def _touched(root: Path) -> None:
    path = root / "钱学森" / "notes.txt"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _rewritten(root: Path) -> None:
    path = root / "钱学森" / "notes.txt"
    path.write_text(path.read_text(encoding="utf-8").upper(), encoding="utf-8")


def _deleted(root: Path) -> None:
    (root / "钱学森" / "notes.txt").unlink()


def _folder_gone(root: Path) -> None:
    shutil.rmtree(root / "Wang Ganchang" / "audio" / "box1")


def _junk_became_a_file(root: Path) -> None:
    (root / "钱学森" / "信件" / "DS_Store.txt").write_text("not junk now", encoding="utf-8")


@pytest.mark.parametrize("change", [_added, _touched, _rewritten, _deleted,
                                    _folder_gone, _junk_became_a_file])
def test_any_change_on_disk_is_left_to_the_full_ingest(catalogued, settings, catalog_path,
                                                       change):
    change(catalogued)
    before = _runs(catalog_path)
    assert noop_run(settings, [str(catalogued)], IngestOptions()) is None
    assert _runs(catalog_path) == before  # nothing written


@pytest.mark.parametrize("options", [
    IngestOptions(scientist="钱学森"), IngestOptions(type="letter"), IngestOptions(type=""),
    IngestOptions(dry_run=True),
    IngestOptions(retry_problems=True), IngestOptions(include_forgotten=True),
])
def test_options_that_change_items_are_left_to_the_full_ingest(catalogued, settings, options):
    assert noop_run(settings, [str(catalogued)], options) is None


@sqlite_only
def test_what_the_catalog_holds_may_also_leave_it_to_the_full_ingest(
        catalogued, settings, catalog_path, tmp_path):
    from sqlalchemy import text
    assert noop_run(settings, [str(catalogued)], IngestOptions()) is not None
    # A folder not catalogued yet (a new root), beside one that is.
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("a", encoding="utf-8")
    assert noop_run(settings, [str(catalogued), str(other)], IngestOptions()) is None
    with opened(settings) as catalog:
        # A file `archive verify` found changed under the same size and mtime is read again.
        with catalog.session() as s:
            s.execute(text("UPDATE files SET status = 'changed' WHERE path = 'notes.txt' "
                           "OR path LIKE '%notes.txt'"))
            s.commit()
        assert noop_run(settings, [str(catalogued)], IngestOptions()) is None
        ingest(catalog, [str(catalogued)])  # reads it again: verified fine
        assert noop_run(settings, [str(catalogued)], IngestOptions()) is not None
        # An ingest of the same folders still marked running: alive or killed, the full
        # ingest's lock decides.
        with catalog.session() as s:
            s.execute(text("INSERT INTO ingest_runs (started_at, status, roots) VALUES "
                           "('2026-12-01 10:00:00.000000', 'running', :roots)"),
                      {"roots": json.dumps([os.path.dirname(os.path.realpath(catalogued))])})
            s.commit()
        assert noop_run(settings, [str(catalogued)], IngestOptions()) is None
        report = ingest(catalog, [str(catalogued)])  # marks the dead run interrupted
        assert report.unchanged == 7
    assert noop_run(settings, [str(catalogued)], IngestOptions()) is not None
    # A search index behind the catalog (here: gone) is brought up to date by the full run.
    shutil.rmtree(settings.index_dir)
    assert noop_run(settings, [str(catalogued)], IngestOptions()) is None


@sqlite_only
def test_forgotten_files_and_used_manifests_stay_out_as_in_the_full_ingest(
        catalogued, settings, cli):
    manifest = catalogued / "钱学森" / "manifest.csv"
    manifest.write_text("path,title\n钱学森/notes.txt,Notes on rockets\n", encoding="utf-8")
    assert cli("ingest", str(catalogued), "--manifest", str(manifest)).exit_code == 0
    forgotten = catalogued / "Wang Ganchang" / "audio" / "box2" / "interview_2.wav"
    assert cli("forget", str(forgotten), "--reason", "a copy").exit_code == 0
    shutil.copyfile(manifest, catalogued / "Wang Ganchang" / "copy of manifest.csv")
    quick = noop_run(settings, [str(catalogued)], IngestOptions())
    assert quick is not None
    with opened(settings) as catalog:
        full = ingest(catalog, [str(catalogued)])
    assert sorted(quick.skipped, key=str) == sorted(full.skipped, key=str)
    assert {s["path"] for s in quick.skipped} >= {
        "钱学森/manifest.csv", "Wang Ganchang/copy of manifest.csv",
        "Wang Ganchang/audio/box2/interview_2.wav"}
    assert (quick.unchanged, quick.seen) == (full.unchanged, full.seen) == (6, 6)


@sqlite_only
def test_ctrl_c_during_the_walk_records_an_interrupted_run(catalogued, settings,
                                                          catalog_path):
    class Stop:
        def update(self, report, current):
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as stopped:
        noop_run(settings, [str(catalogued)], IngestOptions(), Stop())
    report = stopped.value.partial
    assert report.interrupted and report.run_id is not None
    with opened(settings) as catalog, catalog.session() as s:
        run = get_run(s, report.run_id)
    assert run.summary.status == "interrupted"  # as the full ingest records one
    assert {p.path for p in run.problems} == {k["path"] for k in report.skipped}


@sqlite_only
def test_files_still_missing_are_listed_and_unreadable_names_compared(catalogued, settings):
    """Files marked missing that are still gone, and a name that is not UTF-8, are what the
    full ingest would find unchanged: the re-run applies, with the same report."""
    _deleted(catalogued)
    odd = os.fsencode(catalogued / "钱学森") + b"/caf\xe9 1957.txt"
    with open(odd, "wb") as fh:
        fh.write(b"a Latin-1 name")
    with opened(settings) as catalog:
        first = ingest(catalog, [str(catalogued)])
    assert (first.new, first.missing) == (1, ["钱学森/notes.txt"])
    quick = noop_run(settings, [str(catalogued)], IngestOptions())
    assert quick is not None
    with opened(settings) as catalog:
        full = ingest(catalog, [str(catalogued)])
    assert (quick.unchanged, quick.missing) == (full.unchanged, full.missing) == \
        (7, ["钱学森/notes.txt"])
    # Back in place: the full ingest restores it.
    (catalogued / "钱学森" / "notes.txt").write_text("back", encoding="utf-8")
    assert noop_run(settings, [str(catalogued)], IngestOptions()) is None


@sqlite_only
def test_forgetting_under_another_root_is_as_the_full_ingest_sees_it(tmp_path, settings, cli):
    """A file forgotten under /x stays in /x/a, a root of its own, for the full ingest (its
    forgotten files are those of the roots walked): the re-run must agree."""
    outer = tmp_path / "x"
    inner = outer / "a"
    inner.mkdir(parents=True)
    (inner / "g.txt").write_text("g", encoding="utf-8")
    for root in (outer, inner):
        assert cli("ingest", str(root), "-q").exit_code == 0
    (inner / "f.txt").write_text("f", encoding="utf-8")
    assert cli("ingest", str(outer), "-q").exit_code == 0
    assert cli("forget", str(inner / "f.txt"), "--reason", "a stray copy").exit_code == 0
    with opened(settings) as catalog:
        dry = ingest(catalog, [str(inner)], IngestOptions(dry_run=True))
    assert dry.new == 1  # the full ingest would catalogue f.txt under /x/a
    assert noop_run(settings, [str(inner)], IngestOptions()) is None


@sqlite_only
def test_a_catalog_to_upgrade_is_left_to_the_full_ingest(tmp_path, catalogued):
    from tests.test_migrations import RELEASE_CATALOG
    older = tmp_path / "older.db"
    shutil.copyfile(RELEASE_CATALOG, older)
    assert noop_run(catalog_settings(older), [str(catalogued)], IngestOptions()) is None
    assert older.read_bytes() == RELEASE_CATALOG.read_bytes()


def test_a_missing_folder_is_the_usage_error_the_full_ingest_gives(settings, tmp_path):
    from archive.errors import UsageError
    with pytest.raises(UsageError, match="no such folder"):
        noop_run(settings, [str(tmp_path / "nowhere")], IngestOptions())
