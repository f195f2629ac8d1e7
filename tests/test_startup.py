"""The CLI starts at once: `archive --help`, `--version` and every command's `--help` run for
real (the installed `archive` script in a subprocess) and import no media, search, web or
database-driver library; a search imports jieba only when its query has a run of Chinese
characters to cut into words."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive.cli import COMMANDS
from tests.catalogs import catalog_env, catalog_url

ARCHIVE = Path(sys.executable).with_name("archive")

# What parsing options and printing help must never pay for.
HEAVY = {
    "sqlite3", "_sqlite3", "psycopg", "psycopg2",  # database drivers
    "av", "PIL", "pypdfium2", "exifread", "pillow_heif", "docx", "openpyxl", "pebble",  # media
    "whoosh", "tantivy", "jieba", "pypinyin", "opencc",  # search
    "flask", "werkzeug", "jinja2", "waitress", "iiif_prezi3",  # the site and exports
    "alembic", "mako",  # schema migrations: only to upgrade a catalog made by an older version
}
# `archive --help` and `--version` do not even open the ORM or draw progress bars.
TOP_LEVEL_HEAVY = HEAVY | {"sqlalchemy", "rich"}


def imported_by(*args: str, cwd: Path | None = None, modules: bool = False) -> set[str]:
    """Top-level packages the real `archive ARGS` imported (Python's own import-time log);
    with `modules`, every module's full name."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    env.pop("ARCHIVE_CONFIG", None)
    done = subprocess.run([str(ARCHIVE), *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name if modules else name.split(".")[0])
    assert "click" in names, "the import-time log was not read"
    return names


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_top_level_help_and_version_import_nothing_heavy(args: list[str]):
    assert imported_by(*args) & TOP_LEVEL_HEAVY == set()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_commands_help_imports_no_heavy_library(command: str):
    assert imported_by(command, "--help") & HEAVY == set()


def test_a_search_loads_jieba_only_for_chinese(tmp_path: Path, monkeypatch):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "rocket_notes_1956.txt").write_text("Notes on rocket engines. 火箭发动机笔记。",
                                                  encoding="utf-8")
    path = tmp_path / "catalog.db"
    for name, value in catalog_env(path).items():
        monkeypatch.setenv(name, value)
    catalog = catalog_url(path)
    subprocess.run([str(ARCHIVE), "--catalog", catalog, "ingest", str(folder), "--quiet"],
                   check=True, capture_output=True, timeout=300)
    english = imported_by("--catalog", catalog, "search", "rocket")
    assert "tantivy" in english and "whoosh" not in english and "jieba" not in english
    filters = imported_by("--catalog", catalog, "search", "date:1950..1960")
    assert "jieba" not in filters
    # A catalog at the newest revision is known to be without reading the revisions; a
    # romanised name needs no pinyin dictionary.
    pinyin_name = imported_by("--catalog", catalog, "search", "Qian Xuesen")
    for searched in (english, filters, pinyin_name):
        assert searched & {"alembic", "mako", "pypinyin", "PIL", "av", "flask", "rich"} == set()
    # A two-character word is its own word: jieba's dictionary (1-2 s) is loaded only for a
    # longer run of characters, which it has to cut into words.
    chinese = imported_by("--catalog", catalog, "search", "火箭")
    assert "jieba" not in chinese
    longer = imported_by("--catalog", catalog, "search", "火箭发动机")
    assert "jieba" in longer
    # A Chinese word may be a name, read in pinyin from pypinyin's table, not its package.
    for searched in (chinese, longer, imported_by("--catalog", catalog, "search", "錢學森")):
        assert searched & {"alembic", "pypinyin", "opencc"} == set()


@pytest.mark.sqlite_only("the previous release's catalog is an SQLite file")
def test_alembic_is_imported_only_to_upgrade_a_catalog(tmp_path: Path):
    """Every command that opens a catalog checks its schema revision: with one query, Alembic
    (a third of a second) only when the catalog is older and must be upgraded."""
    import shutil

    from tests.test_migrations import RELEASE_CATALOG
    older = tmp_path / "older.db"
    shutil.copyfile(RELEASE_CATALOG, older)
    current = tmp_path / "current.db"
    made = imported_by("--catalog", str(current), "scientists", "add", "郭永怀")  # a new one
    assert "alembic" not in made
    assert "alembic" not in imported_by("--catalog", str(current), "stats")  # a current one
    assert "alembic" not in imported_by("--catalog", str(current), "upgrade")
    assert "alembic" in imported_by("--catalog", str(older), "stats")  # upgraded on open
    assert "alembic" not in imported_by("--catalog", str(older), "stats")


def test_a_two_character_query_word_is_what_jieba_would_cut():
    from search.analysis import word_terms
    for word in ("导弹", "卫星", "火箭", "原子", "物理", "书信"):
        assert list(word_terms(word, query=True)) == list(word_terms(word)) == [word]
    assert list(word_terms("弹 rocket", query=True)) == ["rocket"]
    assert list(word_terms("工程控制论", query=True)) == list(word_terms("工程控制论"))


def test_jieba_is_imported_without_pkg_resources_and_reads_its_dictionary_by_path():
    """Importing jieba for a query of three Han characters or more skips pkg_resources (most
    of jieba's import), jieba still reads its dictionary and cuts the same words, and the
    process can import pkg_resources afterwards."""
    code = ("import sys; from search.analysis import _jieba; j = _jieba(); "
            "assert 'pkg_resources' not in sys.modules; j.initialize(); "
            "print(' '.join(j.cut_for_search('钱学森研究人造卫星'))); import pkg_resources")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["钱学森", "研究", "人造", "卫星", "人造卫星"]


def test_a_rerun_with_nothing_to_do_loads_no_parser_and_starts_no_worker(tmp_path: Path,
                                                                          monkeypatch):
    """#13.8: the no-op re-run imported PyAV, Pillow, pypdf and pebble (half its time on a
    small collection) though it extracts nothing; the parsers now come with the first file
    that needs them, and the workers with the first task. Nor does it load the CSV encoding
    detector (only a manifest in an unknown encoding needs it) or pinyin (no name to match)."""
    from benchmarks.generators.samples import make_jpeg, make_pdf, make_wav
    folder = tmp_path / "papers"
    make_jpeg(folder / "钱学森" / "letter_1956.jpg")
    make_wav(folder / "钱学森" / "talk.wav", 0.5)
    make_pdf(folder / "钱学森" / "手稿" / "notes.pdf", ["火箭发动机的笔记"])
    (folder / "钱学森" / "手稿" / "draft.txt").write_text("工程控制论 草稿", encoding="utf-8")
    path = tmp_path / "catalog.db"
    for name, value in catalog_env(path).items():
        monkeypatch.setenv(name, value)
    catalog = catalog_url(path)
    first = imported_by("--catalog", catalog, "ingest", str(folder), "--quiet")
    assert {"av", "PIL", "pebble", "pypdfium2"} <= first
    again = imported_by("--catalog", catalog, "ingest", str(folder), "--quiet", modules=True)
    # Nor the search index (nothing changed, so it is current) or its Chinese word cutter,
    # nor the catalog writer and its batch planning (nothing to write).
    assert {m.split(".")[0] for m in again} & {
        "av", "PIL", "pypdf", "pypdfium2", "exifread", "pebble", "docx", "charset_normalizer",
        "pypinyin", "whoosh", "tantivy", "jieba"} == set()
    assert again & {"ingest.writer", "ingest.batch", "ingest.extract", "search.index"} == set()
    # What a no-op still does: notice a file gone (and then bring the index up to date).
    (folder / "钱学森" / "talk.wav").unlink()
    gone = subprocess.run([str(ARCHIVE), "--catalog", catalog, "ingest", str(folder), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert gone.returncode == 0, gone.stderr[-2000:]
    report = json.loads(gone.stdout)
    assert report["missing"] == ["钱学森/talk.wav"]
    assert (report["unchanged"], report["new"], report["changed"]) == (3, 0, 0)


def test_names_are_read_as_pypinyin_reads_them_without_importing_it():
    """A Chinese search word may be a scientist's name, so its pinyin is worked out; the readings
    come from pypinyin's own character table, without importing pypinyin (whose phrase table
    took most of a Chinese search's start-up). Every character, first (all its readings) and
    after it (the usual one), reads as pypinyin's `pinyin()` reads it in names."""
    from pypinyin import Style, pinyin

    from archive.han import HAN
    from archive.names import _character_readings, _readings

    def pypinyins(chars: list[str]) -> list[list[str]]:
        first = pinyin(chars[0], style=Style.NORMAL, heteronym=True, errors="ignore")
        return first + pinyin(chars[1:], style=Style.NORMAL, errors="ignore")

    codes = set(_character_readings()) | set(range(0x3400, 0xA000)) | set(range(0xF900, 0xFB00))
    different = [chr(c) for c in sorted(codes) if HAN.match(chr(c))
                 and _readings(chr(c) * 2) != pypinyins([chr(c)] * 2)]
    assert different == []
    assert _readings("曾钱学森") == pypinyins(list("曾钱学森")) == [
        ["ceng", "zeng"], ["qian"], ["xue"], ["sen"]]


def test_the_shipped_traditional_to_simplified_table_is_opencc_s():
    """Folding traditional characters reads search/t2s.txt instead of asking OpenCC for every
    character at each start; after an OpenCC upgrade, `python -m search.analysis` writes it."""
    from search.analysis import T2S_FILE, _t2s_table, t2s_from_opencc, t2s_lines
    table = t2s_from_opencc()
    assert T2S_FILE.read_text(encoding="utf-8") == t2s_lines(table)
    assert _t2s_table() == table and table[ord("錢")] == "钱"


def test_a_startup_run_rewrites_only_its_part_of_the_report():
    """`python -m benchmarks.run --only startup` keeps what others wrote in the report."""
    from benchmarks.run import splice
    report = ("# Performance\n\n## Goals\n\n| measure | figure |\n|---|---|\n"
              "| `archive --version` vs click | old |\n| ingest | kept |\n\n"
              "## Start-up\n\nold table\n\n## Ingest\n\nkept\n")
    rows = {"| `archive --version` vs": "| `archive --version` vs click | new |",
            "| `archive search` on": "| `archive search` on 20,000 items | new |"}
    assert splice(report, "## Start-up", ["## Start-up", "", "new table", ""], rows) == (
        "# Performance\n\n## Goals\n\n| measure | figure |\n|---|---|\n"
        "| `archive --version` vs click | new |\n| ingest | kept |\n"
        "| `archive search` on 20,000 items | new |\n\n"
        "## Start-up\n\nnew table\n\n## Ingest\n\nkept\n")
    without = report.replace("## Start-up\n\nold table\n\n", "")
    assert "## Start-up\n\nnew table\n\n## Ingest" in splice(
        without, "## Start-up", ["## Start-up", "", "new table", ""], rows)
