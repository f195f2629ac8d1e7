"""Exceptions raised by the library; the CLI turns them into one-line messages and exit codes.

    ArchiveError                 anything the user can act on
    ├── CatalogError             the catalog cannot be opened or is in the wrong state
    │   └── CatalogBusy          another ingest holds the writer lock
    ├── UsageError               bad user input: paths, options, names
    │   ├── UnknownScientist     a name that matches no scientist or variant
    │   ├── NotFound             an accession number or record that does not exist
    │   ├── QueryError           a search query that cannot be read
    │   └── ImageRequestError    a IIIF Image API request the site does not answer (400)
    ├── IndexProblem             the search index cannot answer: the message says what to do
    │   ├── IndexMissing         no index, or one built by another version: run reindex
    │   ├── IndexBusy            another process writes the index and kept it past the wait
    │   └── IndexDamaged         the index's files cannot be read: run reindex (an ingest mends it)
    ├── AccountError             a user name, role or password that cannot be used
    ├── ManifestError            a CSV manifest with bad rows (all rows listed, nothing written)
    ├── SpreadsheetError         a sheet of item edits with bad rows (all listed, none written)
    ├── BagProblem               a bag could not be built: originals missing or changed (all listed)
    └── NotABag                  a folder given to verify-bag is not a BagIt bag
"""
from __future__ import annotations

from dataclasses import dataclass


class ArchiveError(Exception):
    """Base class: the message says what went wrong and what to do next."""


class CatalogError(ArchiveError):
    pass


class CatalogBusy(CatalogError):
    pass


class UsageError(ArchiveError):
    pass


class UnknownScientist(UsageError):
    def __init__(self, name: str):
        super().__init__(
            f"unknown scientist {name!r}: add them first with "
            "`archive scientists add` or `archive scientists import FILE.csv`"
        )
        self.name = name


class NotFound(UsageError):
    pass


class QueryError(UsageError):
    pass


class ImageRequestError(UsageError):
    pass


class AccountError(ArchiveError):
    pass


class IndexProblem(ArchiveError):
    pass


class IndexMissing(IndexProblem):
    pass


class IndexBusy(IndexProblem):
    pass


class IndexDamaged(IndexProblem):
    pass


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line number in the CSV, the header being row 1
    reason: str


class ManifestError(ArchiveError):
    def __init__(self, path: str, errors: list[RowError]):
        self.path = path
        self.errors = errors
        lines = [f"manifest {path}: {len(errors)} bad row(s); nothing was written"]
        lines += [f"  row {e.row}: {e.reason}" for e in errors]
        super().__init__("\n".join(lines))


class SpreadsheetError(ArchiveError):
    """A sheet of item edits (`archive items import`) with bad rows: all listed, none written."""

    def __init__(self, path: str, errors: list[RowError]):
        self.path = path
        self.errors = errors
        lines = [f"{path}: {len(errors)} bad row(s); nothing was changed"]
        lines += [f"  row {e.row}: {e.reason}" for e in errors]
        super().__init__("\n".join(lines))


class BagProblem(ArchiveError):
    def __init__(self, target: str, problems: list[str]):
        self.problems = problems
        head = (f"bag {target} was not made ({len(problems)} problem(s); nothing was left "
                "behind). Originals missing or changed since they were catalogued need "
                "`archive ingest` again before they can be bagged:")
        lines = [head]
        lines += [f"  {p}" for p in problems]
        super().__init__("\n".join(lines))


class NotABag(ArchiveError):
    pass


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a long command. Still a KeyboardInterrupt (whoever does not know this
    class stops as for any Ctrl-C), carrying what was done before it: `partial` is the
    command's report, marked interrupted, for the CLI to print (`ingest --json`)."""

    def __init__(self, partial: object):
        super().__init__()
        self.partial = partial
