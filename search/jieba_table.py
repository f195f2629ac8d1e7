"""jieba's search-mode words of a query without loading jieba's dictionary: jieba's own
segmenter reading its prefix dictionary from an on-disk table, a few dozen keys a query.

Loading the dictionary (half a million words and prefixes) was 0.5-0.6 CPU s of every CLI
search for a run of three or more Chinese characters, a scientist's name (docs/PERFORMANCE.md).
jieba's segmenter only asks its dictionary (`Tokenizer.FREQ`) for the frequency of the query's
substrings and their prefixes, and for the `total`: a `jieba.Tokenizer` whose FREQ is a
read-only mapping over an SQLite table of that same dictionary cuts exactly the words the
loaded one cuts. The HMM tables for unknown words (jieba.finalseg) are imported with jieba
itself and stay as they are.

The table is made from the dictionary the index side loads (`jieba.dt`, which the project never
adds words to), the first time a query needs it, into a per-user folder of the temporary
folder (as jieba keeps its own cache there), written whole and renamed into place. Its name
holds jieba's version and dict.txt's size and mtime, so an upgraded jieba makes a new one. A
table that cannot be read or written only means the full dictionary is loaded, as before.
"""
from __future__ import annotations

import functools
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TABLE_VERSION = 1  # of the table's own layout
# Keys a process remembers (about 100 bytes each): the site's searcher lives as long as the
# server, and every query's substrings that are no word are keys too.
MAX_REMEMBERED = 100_000


def table_folder() -> Path:
    """Where the table is kept: the user's own folder in the temporary folder."""
    return Path(tempfile.gettempdir()) / f"archive-jieba-{os.getuid()}"


def table_name(jieba: Any) -> str:
    """The table's file name, which changes with jieba's version or its dictionary file.

        table_name(jieba) -> "words-1-jieba0.42.1-5071852-1764638580123456789.sqlite"
    """
    stat = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME).stat()
    return (f"words-{TABLE_VERSION}-jieba{jieba.__version__}-{stat.st_size}-"
            f"{stat.st_mtime_ns}.sqlite")


class TableFreq(Mapping[str, int]):
    """jieba's FREQ (word or prefix -> frequency, 0 for a prefix that is no word) read from
    the table key by key, each key once. Only what jieba's segmenter uses is fast: `in`, `[]`
    and `get`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()  # the web site's threads share one connection
        self._read: dict[str, int | None] = {}

    def _frequency(self, word: object) -> int | None:
        if not isinstance(word, str):
            return None
        try:
            return self._read[word]
        except KeyError:
            pass
        with self._lock:
            row = self._connection.execute("SELECT freq FROM freq WHERE word = ?",
                                           (word,)).fetchone()
        if len(self._read) >= MAX_REMEMBERED:  # a long-lived site sees endless new queries
            self._read.clear()
        self._read[word] = frequency = None if row is None else int(row[0])
        return frequency

    def __getitem__(self, word: str) -> int:
        frequency = self._frequency(word)
        if frequency is None:
            raise KeyError(word)
        return frequency

    def __contains__(self, word: object) -> bool:
        return self._frequency(word) is not None

    def get(self, word: str, default: Any = None) -> Any:
        frequency = self._frequency(word)
        return default if frequency is None else frequency

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            words = [w for (w,) in self._connection.execute("SELECT word FROM freq")]
        return iter(words)

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT count(*) FROM freq").fetchone()[0])


@functools.lru_cache(maxsize=4)
def open_table(jieba: Any, path: Path) -> Any | None:
    """A jieba Tokenizer over the table at `path`, or None when there is no readable table.
    One a process (the site's queries share it): a missing table is made by loading the
    dictionary, which the process then cuts with instead."""
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True,
                                     check_same_thread=False)
        row = connection.execute("SELECT total FROM total").fetchone()
    except sqlite3.Error as exc:
        log.warning("jieba's word table %s is unreadable (%s): loading the dictionary", path, exc)
        return None
    if row is None:
        return None
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = TableFreq(connection)
    tokenizer.total = int(row[0])
    tokenizer.initialized = True  # so it never loads the dictionary over the table
    return tokenizer


def write_table(freq: Mapping[str, int], total: int, path: Path) -> None:
    """The dictionary `freq` and its `total` as a table at `path`: written beside it, then
    renamed over it, so a reader sees a whole table or none."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(descriptor)
    try:
        connection = sqlite3.connect(temporary)
        try:
            with connection:
                connection.execute("PRAGMA journal_mode = OFF")
                connection.execute("CREATE TABLE freq (word TEXT PRIMARY KEY,"
                                   " freq INTEGER NOT NULL) WITHOUT ROWID")
                connection.execute("CREATE TABLE total (total INTEGER NOT NULL)")
                connection.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
                connection.execute("INSERT INTO total VALUES (?)", (total,))
        finally:
            connection.close()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _ours(folder: Path) -> bool:
    """Whether the folder is missing or the user's own (the temporary folder is shared)."""
    try:
        return folder.stat().st_uid == os.getuid()
    except FileNotFoundError:
        return True


def query_tokenizer(jieba: Any, folder: Path | None = None) -> Any:
    """The tokenizer a query's words are cut with: the loaded dictionary when this process
    already has it, else the table, made now (from the loaded dictionary) when missing."""
    if jieba.dt.initialized:
        return jieba.dt
    folder = table_folder() if folder is None else folder
    if not _ours(folder):
        log.warning("%s belongs to another user: loading jieba's dictionary", folder)
        return jieba.dt
    path = folder / table_name(jieba)
    tokenizer = open_table(jieba, path)
    if tokenizer is not None:
        return tokenizer
    jieba.dt.initialize()
    try:
        write_table(jieba.dt.FREQ, jieba.dt.total, path)
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not write jieba's word table %s (%s)", path, exc)
    return jieba.dt
