"""A query's jieba words cut over the on-disk table of jieba's dictionary (search.jieba_table)
are exactly the words of jieba's loaded dictionary, for the gold set's queries, every name and
Chinese text of the fixtures and the demo generator, and 1,500 random pieces of them in mixed
scripts; a real CLI search of a name no longer loads the dictionary."""
from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from search import jieba_table
from search.analysis import _jieba, word_terms
from tests.catalogs import catalog_env, catalog_url

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = Path(sys.executable).with_name("archive")
HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
# Where the Chinese text comes from: the gold set's queries (tests/test_search.py), the names
# and texts of every fixture, and the demo collection's generator.
SOURCES = [*sorted((ROOT / "tests").glob("*.py")), ROOT / "benchmarks/generators/samples.py"]
CORPUS = Path("/work/shared/corpus")  # real-world text, when this machine has it


def chinese_lines() -> list[str]:
    lines = [line.strip() for source in SOURCES
             for line in source.read_text(encoding="utf-8").splitlines() if HAN_RUN.search(line)]
    for text in sorted(CORPUS.glob("documents/**/*.txt")) if CORPUS.is_dir() else []:
        try:
            lines += [ln.strip() for ln in text.read_text(encoding="utf-8").splitlines()
                      if HAN_RUN.search(ln)]
        except (UnicodeDecodeError, OSError):
            continue
    return lines


def queries() -> list[str]:
    lines = chinese_lines()
    runs = sorted({run for line in lines for run in HAN_RUN.findall(line)})
    pieces = random.Random(137).choices(lines, k=1_500)
    rng = random.Random(7)
    sliced = []
    for line in pieces:  # a random piece of a line: Chinese with Latin, digits, punctuation
        start = rng.choice([m.start() for m in HAN_RUN.finditer(line)]) - rng.randint(0, 4)
        start = max(0, start + rng.randint(0, 3))
        sliced.append(line[start:start + rng.randint(1, 24)])
    return runs + sliced + ["钱学森", "人造卫星", "錢學森 导弹", "Qian Xuesen 钱学森 1956年",
                            "两弹一星元勋", "中华人民共和国国防科学技术委员会"]


@pytest.fixture(scope="module")
def table_tokenizer(tmp_path_factory):
    jieba = _jieba()
    jieba.dt.initialize()  # the dictionary the index side cuts with
    path = tmp_path_factory.mktemp("jieba") / jieba_table.table_name(jieba)
    jieba_table.write_table(jieba.dt.FREQ, jieba.dt.total, path,
                            jieba_table.dictionary_file(jieba))
    tokenizer = jieba_table.open_table(jieba, path)
    assert tokenizer is not None and tokenizer is not jieba.dt
    return tokenizer


def test_the_table_cuts_exactly_the_words_of_the_loaded_dictionary(table_tokenizer):
    jieba = _jieba()
    asked = queries()
    assert len(asked) > 1_500 and sum(len(HAN_RUN.findall(q)) > 0 for q in asked) > 1_000
    for query in asked:
        assert list(table_tokenizer.cut_for_search(query)) == \
            list(jieba.dt.cut_for_search(query)), query
        assert list(table_tokenizer.cut(query)) == list(jieba.dt.cut(query)), query
    assert table_tokenizer.total == jieba.dt.total
    read = table_tokenizer.FREQ
    assert 0 < len(read._read) < 200_000  # key by key, never the whole table
    assert read["钱学"] == 0 and read.get("钱学") == 0  # a prefix only: 0, as jieba has it
    assert "x-not-a-word" not in read and read.get("x-not-a-word", 5) == 5


def test_the_keys_a_process_remembers_are_bounded(table_tokenizer, monkeypatch):
    """A long-lived site sees endless new queries: what the table remembers stays bounded,
    and the words stay jieba's."""
    jieba = _jieba()
    monkeypatch.setattr(jieba_table, "MAX_REMEMBERED", 50)
    table_tokenizer.FREQ._read.clear()  # what the other tests left
    for query in queries()[:300]:
        assert list(table_tokenizer.cut_for_search(query)) == \
            list(jieba.dt.cut_for_search(query)), query
        assert len(table_tokenizer.FREQ._read) <= 50


def test_a_querys_words_are_its_indexed_words():
    """Through search.analysis, in whichever process state (the table or the loaded
    dictionary): runs of three or more characters cut as the index cut them."""
    longer = [q for q in queries() if all(len(r) >= 3 for r in HAN_RUN.findall(q))]
    assert len(longer) > 500
    for query in longer:
        assert list(word_terms(query, query=True)) == list(word_terms(query)), query


def test_a_missing_or_broken_table_means_the_loaded_dictionary(tmp_path: Path):
    jieba = _jieba()
    assert jieba_table.open_table(jieba, tmp_path / "none.sqlite") is None
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"not a database at all" * 100)
    assert jieba_table.open_table(jieba, broken) is None


def test_a_cli_search_of_a_name_reads_the_table_not_the_dictionary(tmp_path: Path, monkeypatch):
    """jieba writes its own cache of the loaded dictionary into the temporary folder: in a
    temporary folder of its own, the first search makes the table (loading the dictionary once),
    a later one finds the same items without loading it."""
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "qian_1956.txt").write_text("钱学森关于人造卫星的报告。", encoding="utf-8")
    (folder / "other_1957.txt").write_text("火箭发动机笔记。", encoding="utf-8")
    path = tmp_path / "catalog.db"
    for name, value in catalog_env(path).items():
        monkeypatch.setenv(name, value)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    catalog = catalog_url(path)
    subprocess.run([str(ARCHIVE), "--catalog", catalog, "ingest", str(folder), "--quiet"],
                   check=True, capture_output=True, timeout=300)

    def search(query: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_CONFIG"}
        done = subprocess.run([str(ARCHIVE), "--catalog", catalog, "search", query],
                              capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    for cache in temporary.glob("jieba*.cache"):
        cache.unlink()  # the index was built, the dictionary loaded: forget jieba's cache
    # What an earlier jieba left: a table of the first layout, a table abandoned half-written.
    tables_folder = temporary / f"archive-jieba-{os.getuid()}"
    tables_folder.mkdir(mode=0o700)
    old_layout = tables_folder / "words-1-jieba0.42.0-5071852-1700000000000000000.sqlite"
    sqlite3.connect(old_layout).close()
    abandoned = tables_folder / "tmpabandoned.part"
    abandoned.write_bytes(b"half a table")
    os.utime(abandoned, (time.time() - 7200, time.time() - 7200))
    first = search("钱学森")
    assert "qian_1956" in first
    tables = list(temporary.glob("archive-jieba-*/words-*.sqlite"))
    assert len(tables) == 1 and tables[0].name.startswith("words-2-")
    assert not old_layout.exists() and not abandoned.exists()  # removed by the new table's
    for cache in temporary.glob("jieba*.cache"):
        cache.unlink()
    for query in ("钱学森", "人造卫星", "火箭发动机"):
        later = search(query)
        assert list(temporary.glob("jieba*.cache")) == [], "the dictionary was loaded"
        assert ("qian_1956" in later) == (query != "火箭发动机")
    took = re.compile(r"\(\d+ ms\)")
    assert took.sub("", search("钱学森")) == took.sub("", first)

    # An edit's catch-up of its one item cuts the item's words over the table too (#14).
    found = subprocess.run([str(ARCHIVE), "--catalog", catalog, "search", "钱学森", "--json"],
                           capture_output=True, text=True, timeout=120, check=True)
    accession = json.loads(found.stdout)["hits"][0]["accession"]
    edited = subprocess.run([str(ARCHIVE), "--catalog", catalog, "edit", accession,
                             "--title", "钱学森关于空气动力学研究的信"],
                            capture_output=True, text=True, timeout=120)
    assert edited.returncode == 0, edited.stderr[-2000:]
    assert list(temporary.glob("jieba*.cache")) == [], "the edit loaded the dictionary"
    assert "qian_1956" in search("空气动力学")


class _Slow(Mapping[str, int]):
    """A dictionary whose writing stops half-way until `go` is set: a table being made."""

    def __init__(self, words: dict[str, int], halfway: threading.Event, go: threading.Event):
        self.words, self.halfway, self.go = words, halfway, go

    def __getitem__(self, word: str) -> int:
        return self.words[word]

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def items(self):  # type: ignore[override]
        for n, pair in enumerate(self.words.items()):
            if n == 1:
                self.halfway.set()
                self.go.wait(60)
            yield pair


def test_making_a_table_removes_the_stale_ones_but_none_in_use(tmp_path: Path):
    """Stale: of an older layout, or its dictionary gone or changed, or half-written and left
    an hour ago. Kept: the new table, another installation's current one, one a process reads
    (until it lets go), one being written, one just begun."""
    jieba = _jieba()
    words = {"钱学森": 10, "钱": 5, "钱学": 0}
    folder = tmp_path / "tables"

    def dictionary(name: str, text: str = "钱学森 10 nr\n") -> Path:
        path = tmp_path / name / "dict.txt"
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        return path

    def table(name: str, source: Path) -> Path:
        path = folder / f"words-{jieba_table.TABLE_VERSION}-{name}.sqlite"
        jieba_table.write_table(words, 15, path, source)
        return path

    new = table("new", dictionary("ours"))
    elsewhere = table("elsewhere", dictionary("other_venv"))
    gone_dictionary = dictionary("removed_venv")
    gone = table("gone", gone_dictionary)
    read = table("read", gone_dictionary)
    changed_dictionary = dictionary("upgraded")
    changed = table("changed", changed_dictionary)
    gone_dictionary.unlink()
    changed_dictionary.write_text("钱学森 11 nr\n", encoding="utf-8")
    older = folder / "words-1-jieba0.42.0-1-1.sqlite"
    older.write_bytes(new.read_bytes())
    reader = jieba_table.open_table(jieba, read)  # another process reading it
    assert reader is not None and reader.FREQ["钱学森"] == 10
    an_hour_ago = time.time() - 2 * jieba_table.ABANDONED_AFTER
    abandoned = folder / "tmpabandoned.part"
    abandoned.write_bytes(b"half a table")
    os.utime(abandoned, (an_hour_ago, an_hour_ago))
    begun = folder / "tmpbegun.part"  # made a moment ago, its writer about to lock it
    begun.write_bytes(b"")
    halfway, go = threading.Event(), threading.Event()
    writing = folder / f"words-{jieba_table.TABLE_VERSION}-writing.sqlite"
    writer = threading.Thread(target=jieba_table.write_table, args=(
        _Slow(words, halfway, go), 15, writing, dictionary("writer")))
    writer.start()
    try:
        assert halfway.wait(60)
        (part,) = set(folder.glob("*.part")) - {abandoned, begun}
        os.utime(part, (an_hour_ago, an_hour_ago))  # a slow writer: still its own
        removed = jieba_table.remove_stale(folder, keep=new)
    finally:
        go.set()
        writer.join(60)
    assert set(removed) == {gone, changed, older, abandoned}
    assert {p.name for p in folder.iterdir()} == {
        p.name for p in (new, elsewhere, read, begun, writing)}
    assert jieba_table.open_table(jieba, writing).FREQ["钱学森"] == 10  # written whole
    assert reader.FREQ["钱"] == 5
    os.close(reader.FREQ.held)  # the reader lets go: now it is stale like the others
    assert jieba_table.remove_stale(folder, keep=new) == [read]
