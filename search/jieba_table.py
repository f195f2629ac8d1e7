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

Making a table removes the stale ones (remove_stale): a table whose dictionary file is gone or
has changed since, or of an older layout, and a half-written one its writer left an hour ago.
Never one in use: a process reading a table holds a shared lock on it for as long as it keeps
it, a writer an exclusive one on its half-written file, and a table is removed only under an
exclusive lock taken without waiting. Another installation's current table (several virtual
environments of one user share the folder) is not stale: its dictionary is still there.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TABLE_VERSION = 2  # of the table's own layout (2: the dictionary it was made from)
# Keys a process remembers (about 100 bytes each): the site's searcher lives as long as the
# server, and every query's substrings that are no word are keys too.
MAX_REMEMBERED = 100_000
# A half-written table unchanged this long was left by a writer that died (one takes seconds).
ABANDONED_AFTER = 3600.0


def table_folder() -> Path:
    """Where the table is kept: the user's own folder in the temporary folder."""
    return Path(tempfile.gettempdir()) / f"archive-jieba-{os.getuid()}"


def table_name(jieba: Any) -> str:
    """The table's file name, which changes with jieba's version or its dictionary file.

        table_name(jieba) -> "words-2-jieba0.42.1-5071852-1764638580123456789.sqlite"
    """
    stat = dictionary_file(jieba).stat()
    return (f"words-{TABLE_VERSION}-jieba{jieba.__version__}-{stat.st_size}-"
            f"{stat.st_mtime_ns}.sqlite")


def dictionary_file(jieba: Any) -> Path:
    """jieba's own dictionary file (dict.txt), the one `jieba.dt` loads."""
    return Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)


class TableFreq(Mapping[str, int]):
    """jieba's FREQ (word or prefix -> frequency, 0 for a prefix that is no word) read from
    the table key by key, each key once. Only what jieba's segmenter uses is fast: `in`, `[]`
    and `get`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()  # the web site's threads share one connection
        self._read: dict[str, int | None] = {}
        self.held: int | None = None  # the descriptor holding the table's shared lock

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
    held = _hold(path)  # so another process making a table never removes this one
    if held is None:
        return None
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True,
                                     check_same_thread=False)
        row = connection.execute("SELECT total FROM total").fetchone()
    except sqlite3.Error as exc:
        os.close(held)
        log.warning("jieba's word table %s is unreadable (%s): loading the dictionary", path, exc)
        return None
    if row is None:
        os.close(held)
        return None
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = TableFreq(connection)
    tokenizer.FREQ.held = held  # the lock lasts as long as the table is read (the process)
    tokenizer.total = int(row[0])
    tokenizer.initialized = True  # so it never loads the dictionary over the table
    return tokenizer


def write_table(freq: Mapping[str, int], total: int, path: Path, dictionary: Path) -> None:
    """The dictionary `freq` and its `total` as a table at `path`, noting the `dictionary` file
    it came from: written beside it under an exclusive lock, then renamed over it, so a reader
    sees a whole table or none."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    stat = dictionary.stat()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # still being written: not to be removed
        connection = sqlite3.connect(temporary)
        try:
            with connection:
                connection.execute("PRAGMA journal_mode = OFF")
                connection.execute("CREATE TABLE freq (word TEXT PRIMARY KEY,"
                                   " freq INTEGER NOT NULL) WITHOUT ROWID")
                connection.execute("CREATE TABLE total (total INTEGER NOT NULL)")
                connection.execute("CREATE TABLE source (path TEXT NOT NULL,"
                                   " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL)")
                connection.executemany("INSERT INTO freq VALUES (?, ?)", freq.items())
                connection.execute("INSERT INTO total VALUES (?)", (total,))
                connection.execute("INSERT INTO source VALUES (?, ?, ?)",
                                   (str(dictionary), stat.st_size, stat.st_mtime_ns))
        finally:
            connection.close()
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        os.close(descriptor)


def _hold(path: Path) -> int | None:
    """A descriptor holding a shared lock on the table at `path`, or None when there is no
    table there (or it was removed while the lock was taken)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        if os.fstat(descriptor).st_ino == path.stat().st_ino:
            return descriptor
    except OSError:
        pass
    os.close(descriptor)  # removed (or replaced) before the lock: as if never found
    return None


def _remove_unused(path: Path) -> bool:
    """Remove the file at `path` if no process holds a lock on it, without waiting."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(descriptor).st_ino != path.stat().st_ino:
            return False  # replaced meanwhile: a new table, not the one found
        path.unlink()
        return True
    except OSError:  # BlockingIOError: read or written by another process
        return False
    finally:
        os.close(descriptor)


def _current_elsewhere(path: Path) -> bool:
    """Whether the table at `path` is still its dictionary's (another installation's): made
    by this layout from a dictionary file still there, unchanged."""
    if not path.name.startswith(f"words-{TABLE_VERSION}-"):
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT path, size, mtime_ns FROM source").fetchone()
        if row is None:
            return False
        stat = Path(row[0]).stat()
    except (sqlite3.Error, OSError):  # unreadable, or its dictionary gone
        return False
    return (stat.st_size, stat.st_mtime_ns) == (row[1], row[2])


def remove_stale(folder: Path, keep: Path) -> list[Path]:
    """Remove the folder's stale tables but `keep` (see the module): of an older layout, or
    whose dictionary is gone or changed, unless a process reads them; and half-written ones
    left by a writer that died. Returns what was removed."""
    removed = []
    for path in sorted(folder.glob("words-*.sqlite")):
        if path.name != keep.name and not _current_elsewhere(path) and _remove_unused(path):
            removed.append(path)
    now = time.time()
    for path in sorted(folder.glob("*.part")):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > ABANDONED_AFTER and _remove_unused(path):
                removed.append(path)
    return removed


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
        write_table(jieba.dt.FREQ, jieba.dt.total, path, dictionary_file(jieba))
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not write jieba's word table %s (%s)", path, exc)
        return jieba.dt
    try:
        for stale in remove_stale(folder, keep=path):
            log.info("removed jieba's stale word table %s", stale)
    except OSError as exc:  # the folder's listing: the tables stay, nothing else is wrong
        log.warning("could not remove jieba's stale word tables in %s (%s)", folder, exc)
    return jieba.dt
