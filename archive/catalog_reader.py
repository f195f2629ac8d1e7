"""The few catalog reads a search makes, in plain SQL: where the catalog stands (its highest
item, newest change and change-log seq, which tell whether the search index is behind) and
the rows a page of hits shows (texts for snippets, transcript cues, machine-read pages, files
found missing, scientists' names for facets).

Why plain SQL: a search from the command line is over in a few milliseconds, and importing
SQLAlchemy and the catalog's models costs a third of a second before it starts
(docs/PERFORMANCE.md, Start-up). So on an SQLite catalog at the newest schema `open()` reads
the file through Python's own `sqlite3`, opened as the catalog opens it for reading, and
`None` sends the caller to the full catalog (archive/catalog.py) for everything else: a
missing or foreign file, a catalog to upgrade, a database server. A catalog already open (the
site, the writers, PostgreSQL) is read through the same SQL on its SQLAlchemy engine (`of()`),
so there is one set of queries.

    with CatalogReader.open(settings) as reads:   # or CatalogReader.of(catalog)
        reads.mark()             -> (highest item id, newest change)
        reads.latest_seq()       -> last change-log seq
        reads.texts([7, 9])      -> {7: (["title", "description", "file text"], [cues]), 9: ...}
"""
from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy import Engine

    from archive.catalog import Catalog
    from archive.page_text import PageText
    from archive.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_HEADER = b"SQLite format 3\x00"
# How SQLAlchemy keeps a DateTime in SQLite (its default storage format): text that sorts as
# the time does, always with microseconds. Parameters compared with such columns are written so.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"

Rows = list[tuple[Any, ...]]
# Values in one IN list: SQLite takes 32,766 parameters to a query, PostgreSQL's protocol 65,535.
# A page of hits is at most search.query.MAX_LIMIT items; a facet may name every scientist.
MAX_PARAMETERS = 10_000


def is_sqlite_file(path: Path) -> bool:
    """True for an SQLite database file, an empty file (SQLite makes one of it) or no file
    yet; False for a file holding anything else, which SQLite would call 'not a database'."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except (FileNotFoundError, IsADirectoryError):
        return True
    except OSError:
        return True  # unreadable: SQLite says so in its own words
    return head in (b"", SQLITE_HEADER)


def cannot_change(path: Path) -> bool:
    """True when no one can be writing the file: it has no write permission at all (a
    published copy), this process may not write it or its folder (SQLite needs the folder for
    its journal), or it lies on a file system mounted read-only."""
    if not path.stat().st_mode & 0o222:
        return True
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return True
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def reader_uri(db_path: Path, immutable: bool) -> str:
    """The URI a reader opens an SQLite catalog by. A file no one can change is opened
    read-only and immutable: SQLite then needs no -wal or -shm file beside it (which it could
    not create on read-only media) and makes none in a published copy's folder. A live
    catalog, which an ingest may be writing, is opened as usual, to see the writer's WAL and,
    as the last to close it, to fold the WAL back in as any connection does (a `mode=ro` one
    would leave it behind); `query_only` keeps it from writing anything else.

        reader_uri(Path("/a b/c.db"), False) -> "file:/a%20b/c.db"
        reader_uri(Path("/a/c.db"), True)    -> "file:/a/c.db?mode=ro&immutable=1"
    """
    return "file:" + quote(str(db_path)) + ("?mode=ro&immutable=1" if immutable else "")


def sqlite_read_pragmas(con: sqlite3.Connection) -> None:
    """A reader waits for a writer's lock instead of failing, and SQLite refuses any write
    from it (query_only), so a read command cannot change the catalog by mistake."""
    con.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    con.execute("PRAGMA query_only=ON")


def _in(name: str, values: Iterable[Any]) -> tuple[str, dict[str, Any]]:
    """An IN list as named parameters, which both sqlite3 and SQLAlchemy's text() take.

        _in("i", [7, 9]) -> ("(:i0, :i1)", {"i0": 7, "i1": 9})
    """
    params = {f"{name}{n}": v for n, v in enumerate(values)}
    return "(" + ", ".join(":" + k for k in params) + ")", params


def connect_current(settings: Settings, write: bool = False) -> sqlite3.Connection | None:
    """A sqlite3 connection to the SQLite catalog file at the newest schema revision; None for
    anything the full catalog must open (and explain or upgrade): no file or not an SQLite
    one, another schema revision, a database server. A reader's connection is opened as the
    catalog opens it for reading (`reader_uri`, query_only). With `write`, it is as the
    catalog's writers make theirs (busy timeout, foreign keys, synchronous=NORMAL; WAL is the
    file's own mode), and None for a file no one can change."""
    import sqlite3

    from archive.schema import HEAD  # the revision a current catalog records
    db_path = settings.catalog_path
    if db_path is None or not db_path.is_file():
        return None
    try:
        with open(db_path, "rb") as fh:
            if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                return None
        immutable = cannot_change(db_path)
    except OSError:
        return None
    if write and immutable:
        return None
    try:
        con = sqlite3.connect(reader_uri(db_path, immutable), uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        if write:
            con.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA synchronous=NORMAL")
        else:
            sqlite_read_pragmas(con)
        revisions = con.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        revisions = []  # no version table: a new, older or foreign file
    if revisions != [(HEAD,)]:
        con.close()
        return None
    return con


def _pooled_sqlite_rows(engine: Engine) -> Callable[[str, dict[str, Any]], Rows]:
    """Run a query on a connection from the engine's pool, given back after it (as Core's
    `engine.connect()` does: thread-safe, one connection per call). sqlite3 takes the
    reader's `:name` parameters as they are. Its errors are raised as SQLAlchemy's, as Core
    raised them: the writers catch a busy catalog as SQLAlchemy's OperationalError
    (search.state.INDEX_FAILURES)."""
    from sqlalchemy.exc import DBAPIError

    error = engine.dialect.loaded_dbapi.Error

    def rows(sql: str, params: dict[str, Any]) -> Rows:
        try:
            con = engine.raw_connection()
            try:
                cursor = con.cursor()
                cursor.execute(sql, params)
                return list(cursor.fetchall())
            finally:
                con.close()
        except error as exc:
            raise DBAPIError.instance(sql, params, exc, error,
                                      dialect=engine.dialect) from exc

    return rows


@dataclass
class _FileRow:
    """What item_pages needs of a file (archive.page_text.FileLike, whose attributes a frozen
    dataclass would not match)."""
    id: int
    item_id: int
    path: str
    role: str
    mime: str | None
    pages: int | None


class CatalogReader:
    """Plain SQL over one connection source: `rows(sql, params)` runs a query with `:name`
    parameters. On SQLite, times are text (SQLite has no time type) and JSON is text; a
    server's driver gives Python values: `_time` and `_json` take either."""

    def __init__(self, settings: Settings, rows: Callable[[str, dict[str, Any]], Rows],
                 sqlite: bool, close: Callable[[], None] = lambda: None):
        self.settings = settings
        self._rows = rows
        self._sqlite = sqlite
        self._close = close

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings) -> CatalogReader | None:
        """A reader of the SQLite catalog file at the newest schema revision, through sqlite3
        alone; None for anything the full catalog must open (see `connect_current`)."""
        con = connect_current(settings)
        if con is None:
            return None
        return cls.on(settings, con)

    @classmethod
    def on(cls, settings: Settings, con: sqlite3.Connection) -> CatalogReader:
        """A reader on an open sqlite3 connection to the catalog (closed with the reader)."""
        def rows(sql: str, params: dict[str, Any]) -> Rows:
            return con.execute(sql, params).fetchall()

        return cls(settings, rows, sqlite=True, close=con.close)

    @classmethod
    def of(cls, catalog: Catalog) -> CatalogReader:
        """A reader of an open catalog, through its SQLAlchemy engine: the same SQL on any
        database, a connection from the pool per query, so one reader may serve a site's
        threads."""
        return cls.of_engine(catalog.settings, catalog.engine)

    @classmethod
    def of_engine(cls, settings: Settings, engine: Engine) -> CatalogReader:
        """On SQLite, each query runs on a pooled connection's own sqlite3 connection (made
        by the engine's connect events, as Core's would be): Core built and compiled a
        `text()` with a bind parameter per id for each query, a third of the Python of a
        search at 500,000 items (#14). Other databases go through Core."""
        if engine.dialect.name == "sqlite":
            return cls(settings, _pooled_sqlite_rows(engine), sqlite=True)
        from sqlalchemy import text

        def rows(sql: str, params: dict[str, Any]) -> Rows:
            with engine.connect() as con:
                return [tuple(r) for r in con.execute(text(sql), params)]

        return cls(settings, rows, sqlite=False)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- values ----------------------------------------------------------------------------

    def _time(self, value: Any) -> dt.datetime | None:
        if value is None or isinstance(value, dt.datetime):
            return value
        return dt.datetime.fromisoformat(value)  # SQLite's text, as SQLITE_DATETIME wrote it

    def _time_param(self, value: dt.datetime) -> Any:
        return value.strftime(SQLITE_DATETIME) if self._sqlite else value

    @staticmethod
    def _json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    # -- where the catalog stands ----------------------------------------------------------

    def mark(self) -> tuple[int, dt.datetime | None]:
        """(highest item id, newest change): both read from indexes, so checking is cheap at
        any size (count(*) is a full scan in SQLite). A forgotten item leaves no item row to
        date its going: the change log's last row does."""
        # Two subqueries: SQLite reads one max() from its index's end, but two in one SELECT
        # by scanning the whole index (a 500,000-item catalog's start-up would grow with it).
        (items, updated), = self._rows(
            "SELECT (SELECT max(id) FROM items), (SELECT max(updated_at) FROM items)", {})
        newest = self._time(updated)
        last = self._rows(
            "SELECT at FROM changes WHERE seq = (SELECT max(seq) FROM changes)", {})
        last_change = self._time(last[0][0]) if last else None
        if last_change is not None and (newest is None or last_change > newest):
            newest = last_change
        return items or 0, newest

    def latest_seq(self) -> int:
        """The catalog's last change-log seq (0 before any change)."""
        (seq,), = self._rows("SELECT max(seq) FROM changes", {})
        return seq or 0

    def items_behind(self, items: int, updated: dt.datetime | None, seq: int) -> int:
        """How many items were added, changed, withdrawn or forgotten after an index's marks
        (highest item id, newest change, change-log seq): the items of change rows after
        `seq`, with items added or dated after the marks. Indexed look-ups only."""
        late = "id > :items"
        params: dict[str, Any] = {"items": items, "seq": seq}
        if updated is not None:
            late += " OR updated_at > :since"
            params["since"] = self._time_param(updated)
        (n,), = self._rows(
            "SELECT count(*) FROM (SELECT item_id FROM changes WHERE seq > :seq "
            f"UNION SELECT id FROM items WHERE {late}) AS behind", params)
        return n or 0

    # -- what a page of hits shows -----------------------------------------------------------

    def texts(self, item_ids: Sequence[int]) -> dict[int, tuple[list[str], list[Any]]]:
        """item id -> (texts to cut snippets from: title, description, its files' texts by
        path; its transcripts' cue lists), in two queries for the page."""
        out: dict[int, tuple[list[str], list[Any]]] = {i: ([], []) for i in item_ids}
        if not item_ids:
            return out
        ids, params = _in("i", item_ids)
        for item_id, title, description in self._rows(
                f"SELECT id, title, description FROM items WHERE id IN {ids}", params):
            out[item_id][0].extend(t for t in (title, description) if t)
        for item_id, text, cues in self._rows(
                "SELECT files.item_id, file_texts.text, file_texts.cues FROM files "
                "JOIN file_texts ON file_texts.file_id = files.id "
                f"WHERE files.item_id IN {ids} ORDER BY files.path", params):
            out[item_id][0].append(text)
            cues = self._json(cues)
            if cues:
                out[item_id][1].append(cues)
        return out

    def missing(self, item_ids: Sequence[int]) -> dict[int, list[str]]:
        """item id -> paths of its files found missing (ingest or `archive verify`)."""
        out: dict[int, list[str]] = {}
        if item_ids:
            ids, params = _in("i", item_ids)
            for item_id, path in self._rows(
                    f"SELECT item_id, path FROM files WHERE item_id IN {ids} "
                    "AND status = :missing ORDER BY path", {**params, "missing": "missing"}):
                out.setdefault(item_id, []).append(path)
        return out

    def scientist_names(self, ids: Sequence[int]) -> dict[int, str]:
        """Scientist ids to their preferred names. A facet may name every scientist: asked
        in chunks, within any database's limit of parameters to a query."""
        out: dict[int, str] = {}
        for start in range(0, len(ids), MAX_PARAMETERS):
            where, params = _in("s", ids[start:start + MAX_PARAMETERS])
            out.update(self._rows(f"SELECT id, name FROM scientists WHERE id IN {where}",
                                  params))
        return out

    def pages(self, item_ids: Sequence[int]) -> dict[int, list[PageText]]:
        """item id -> its machine-read pages in page order (as archive.page_text.texts_by_item,
        in three queries for the page of hits; the pages are put together by pages_from_rows)."""
        # Here, not at the top: a re-run of ingest reads the catalog without them (#13.8).
        from archive.page_text import READ, pages_from_rows
        if not item_ids:
            return {}
        ids, params = _in("i", item_ids)
        files: dict[int, list[_FileRow]] = {}
        for row in self._rows(f"SELECT id, item_id, path, role, mime, pages FROM files "
                              f"WHERE item_id IN {ids}", params):
            f = _FileRow(*row)
            files.setdefault(f.item_id, []).append(f)

        def page_rows(file_ids: list[int]) -> Rows:
            in_files, params = _in("f", file_ids)
            return self._rows("SELECT id, file_id, page, width, height, engine, model "
                              f"FROM ocr_pages WHERE file_id IN {in_files} AND status = :read",
                              {**params, "read": READ})

        def line_rows(page_ids: list[int]) -> Rows:
            in_pages, params = _in("p", page_ids)
            return self._rows("SELECT page_id, line_no, text, x, y, w, h, confidence "
                              f"FROM ocr_lines WHERE page_id IN {in_pages} "
                              "ORDER BY page_id, line_no", params)

        return pages_from_rows(files, page_rows, line_rows)
