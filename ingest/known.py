"""What the catalog knows of the walked folders' files, for the skip-unchanged stage: the no-op
re-run's one look-up (its own module, so a re-run that changes nothing never imports the
writer and its batch planning)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.catalog import Catalog

FOLDERS_PER_QUERY = 64  # folders a re-run looks up in one query
# A file with one of these statuses is read again whatever its size and mtime: `archive
# verify` found its bytes changed under the same ones, or it was missing (#11.1).
UNTRUSTED = ("changed", "missing")
# A catalogued file: (file id, size, mtime_ns, has a problem, found changed or missing); the
# last two are truth values (0/1 on SQLite, booleans on PostgreSQL).
Catalogued = tuple[int, int, int, int, int]


class KnownFiles:
    """path -> Catalogued (file id, size, mtime_ns, has problem, found changed) for one folder,
    read for up to FOLDERS_PER_QUERY folders at once (`look_ahead`): a re-run costs about one
    stat per file and one query per 64 folders, without loading the whole catalog. On a
    database server each query is a round trip (and its transaction's end another): one per
    folder was most of a re-run's time there (docs/PERFORMANCE.md).

    This is the no-op re-ingest's hot path, so the query is compiled once for the catalog's
    dialect and run on the driver's own cursor: through SQLAlchemy's execute, adapting the
    cached result columns cost more per folder than the walk itself."""

    def __init__(self, catalog: Catalog | None):
        self._catalog = catalog
        self._raw: Any = None
        self._cursor: Any = None
        self._ahead: dict[tuple[int, str], dict[str, Catalogued]] = {}
        if catalog is None:
            return
        # Here, not at the top: a re-run with nothing to do (ingest/noop.py) shares this
        # module's rules without the models.
        from sqlalchemy import bindparam, literal_column, select

        from archive.models import File
        # On a server, end each look-up's transaction: no snapshot held across a long walk.
        self._end_each = catalog.engine.dialect.name != "sqlite"
        # The last but one column: `archive verify` found the bytes changed under the same
        # size and mtime, so the skip test must not trust them (#11.1). A literal, not a
        # parameter: the driver's cursor gets only the root and the folders. Always
        # FOLDERS_PER_QUERY folder parameters (the last repeated when fewer are looked up),
        # so one statement serves every look-up.
        folders: list[Any] = [bindparam(f"folder{i}") for i in range(FOLDERS_PER_QUERY)]
        # The folder and path first: the rest of a row is its Catalogued as it comes.
        query = select(File.folder, File.path, File.id, File.size, File.mtime_ns,
                       File.problem.is_not(None),
                       File.status.in_([literal_column(f"'{s}'") for s in UNTRUSTED])) \
            .where(File.root_id == bindparam("root"), File.folder.in_(folders))
        compiled = query.compile(dialect=catalog.engine.dialect)
        self._sql = str(compiled)
        self._order = compiled.positiontup if compiled.positional else None

    def __enter__(self) -> KnownFiles:
        if self._catalog is not None:
            self._raw = self._catalog.engine.raw_connection()
            self._cursor = self._raw.cursor()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._raw is not None:
            self._cursor.close()
            self._raw.rollback()  # only reads happened; end the driver's transaction
            self._raw.close()

    def look_ahead(self, root_id: int | None, folders: list[str]) -> None:
        """Read the catalogued files of these folders (at most FOLDERS_PER_QUERY) in one
        query, for the calls that follow."""
        if self._cursor is None or root_id is None or not folders:
            return
        assert len(folders) <= FOLDERS_PER_QUERY
        params: dict[str, Any] = {"root": root_id}
        for i in range(FOLDERS_PER_QUERY):
            params[f"folder{i}"] = folders[min(i, len(folders) - 1)]
        self._cursor.execute(self._sql, tuple(params[k] for k in self._order)
                             if self._order is not None else params)
        rows = self._cursor.fetchall()
        if self._end_each:
            self._raw.rollback()
        found: dict[str, dict[str, Catalogued]] = {folder: {} for folder in folders}
        for r in rows:
            found[r[0]][r[1]] = r[2:]  # a slice, in C: no tuple built in Python per file
        self._ahead.update(((root_id, folder), files) for folder, files in found.items())

    def __call__(self, root_id: int | None,
                 folder: str) -> dict[str, Catalogued]:
        """The folder's catalogued files: read ahead, else read now."""
        if self._cursor is None or root_id is None:
            return {}
        found = self._ahead.pop((root_id, folder), None)
        if found is None:
            self.look_ahead(root_id, [folder])
            found = self._ahead.pop((root_id, folder))
        return found
