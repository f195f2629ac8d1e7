"""Which scientist a file belongs to: manifest row, then --scientist, then the nearest folder
named after a known scientist, else the first folder under the root (a new scientist)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from archive.models import Scientist
from archive.names import display_name
from archive.scientists import ScientistMatcher, ScientistRecord, upsert_scientist
from ingest.classify import folder_type


class ScientistResolver:
    def __init__(self, session: Session, forced_id: int | None):
        self.matcher = ScientistMatcher(session)
        self.forced_id = forced_id
        self._by_folder: dict[tuple[str, ...], int | None] = {}
        self._codes: dict[int, str] = {}

    def code(self, session: Session, scientist_id: int | None) -> str | None:
        if scientist_id is None:
            return None
        if scientist_id not in self._codes:
            self._codes[scientist_id] = session.get(Scientist, scientist_id).code  # type: ignore[union-attr]
        return self._codes[scientist_id]

    def resolve(self, session: Session, chain: tuple[str, ...], first_under_root: str | None,
                manifest_name: str | None) -> int | None:
        """`chain` is the root's own name followed by the folders down to the file."""
        if manifest_name:
            found = self.matcher.match(manifest_name)
            if found is not None:
                return found
        if self.forced_id is not None:
            return self.forced_id
        if chain not in self._by_folder:
            self._by_folder[chain] = self._from_folders(session, chain, first_under_root)
        return self._by_folder[chain]

    def _from_folders(self, session: Session, chain: tuple[str, ...],
                      first_under_root: str | None) -> int | None:
        for name in reversed(chain):
            found = self.matcher.match(name)
            if found is not None:
                return found
        if not first_under_root or folder_type(first_under_root) is not None:
            return None  # files straight under the root, or a root of type folders (信件/...)
        scientist, _ = upsert_scientist(
            session, ScientistRecord(display_name(first_under_root), (first_under_root,)))
        self.matcher.remember(scientist)
        return scientist.id
