"""Which scientist a file belongs to: manifest row, then --scientist, then the nearest folder
named after a known scientist, else the first folder under the root when its name can be a
person's (a new scientist); else nobody, and the folder is listed for the summary."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.changes import record_changes
from archive.events import METADATA_MODIFICATION, event_row, record_events
from archive.models import Item, Scientist
from archive.names import display_name
from archive.personnames import could_be_person_name
from archive.scientists import ScientistMatcher, ScientistRecord, upsert_scientist
from ingest.classify import folder_type


class ScientistResolver:
    def __init__(self, session: Session, forced_id: int | None,
                 unattributed: list[str] | None = None):
        self.matcher = ScientistMatcher(session)
        self.forced_id = forced_id
        # First folders under a root whose names cannot be a person's ("Certs", "Images"):
        # their files stay unattributed and the summary suggests --scientist.
        self.unattributed = unattributed if unattributed is not None else []
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
        if not could_be_person_name(first_under_root):
            if first_under_root not in self.unattributed:
                self.unattributed.append(first_under_root)
            return None
        scientist, _ = upsert_scientist(
            session, ScientistRecord(display_name(first_under_root), (first_under_root,)))
        self.matcher.remember(scientist)
        return scientist.id


def attribute_unattributed(session: Session, root_ids: list[int], scientist_id: int,
                           run_id: int | None) -> int:
    """`--scientist` on a re-run gives the items under these roots that have no scientist yet
    (their folders' names were not people's names) that scientist; items attributed already
    keep theirs. One `metadata modification` event per item. Returns how many changed."""
    ids = list(session.scalars(select(Item.id).where(Item.root_id.in_(root_ids),
                                                     Item.scientist_id.is_(None))))
    if not ids:
        return 0
    name = session.get(Scientist, scientist_id).name  # type: ignore[union-attr]
    session.execute(update(Item).where(Item.id.in_(ids)).values(scientist_id=scientist_id))
    record_events(session, [event_row(METADATA_MODIFICATION, item_id=i, run_id=run_id,
                                       field="scientist", old=None, new=name,
                                       detail="--scientist for an unattributed item")
                            for i in ids])
    record_changes(session, ids)
    return len(ids)
