"""Files `archive forget` took out of the catalog stay out: an ingest skips a forgotten file
still at its path, with a line in its report, unless `--include-forgotten` asks for it again
(the record then goes, and the file is catalogued as a new item)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from archive.paths import filesystem_path

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

INCLUDE_OPTION = "--include-forgotten"


def forgotten_reason(at: dt.datetime, reason: str) -> str:
    """The report line of a forgotten file the walk passed over.

        forgotten_reason(datetime(2026, 12, 1, 9, 30), "a manifest")
            -> "forgotten on 2026-12-01 (a manifest); pass --include-forgotten to catalogue
                it again"
    """
    return (f"forgotten on {at:%Y-%m-%d} ({reason}); pass {INCLUDE_OPTION} to catalogue "
            "it again")


def forgotten_paths(s: Session, root_ids: Collection[int]) -> dict[str, str]:
    """Absolute path -> report line of every forgotten file under these roots (the walk's
    `exclude` map: a dict look-up per file, nothing more)."""
    if not root_ids:
        return {}
    # The models, imported here: a re-run that has nothing to do reads these rows in plain SQL.
    from sqlalchemy import select

    from archive.models import ForgottenFile, Root
    return forgotten_exclude(s.execute(
        select(Root.path, ForgottenFile.path, ForgottenFile.path_raw, ForgottenFile.forgotten_at,
               ForgottenFile.reason)
        .join(Root, Root.id == ForgottenFile.root_id)
        .where(ForgottenFile.root_id.in_(root_ids))))


def forgotten_exclude(rows: Iterable[tuple[str, str, bytes | None, dt.datetime, str]]
                      ) -> dict[str, str]:
    """The walk's `exclude` map from rows of (root, path, raw path, forgotten at, reason)."""
    return {filesystem_path(root, path, raw): forgotten_reason(at, reason)
            for root, path, raw, at, reason in rows}


def include_forgotten(s: Session, root_ids: Collection[int]) -> int:
    """Forget the forgetting under these roots (`--include-forgotten`): the files are
    catalogued again by this run. Returns how many records went."""
    if not root_ids:
        return 0
    from sqlalchemy import delete

    from archive.models import ForgottenFile
    result = s.execute(delete(ForgottenFile).where(ForgottenFile.root_id.in_(root_ids)))
    return int(getattr(result, "rowcount", 0) or 0)
