"""Which scientist a file belongs to: manifest row, then --scientist, then the nearest folder
named after a known scientist, else the first folder under the root when its name can be a
person's (a new scientist); else nobody, and the folder is listed for the summary.

Deciding is pure (`attribute`); creating the scientists it names is the writer's job, done
for a whole batch before any of its items is written.

    attribute(("coll", "钱学森", "信件"), None, None, match)      -> 7   (钱学森 is known, id 7)
    attribute(("coll", "zhao_jiuzhang", "photos"), None, None, match)
                                               -> NewScientist("Zhao Jiuzhang", "zhao_jiuzhang")
    attribute(("coll", "信件"), None, None, match)                -> None (a type folder)
    attribute(("coll", "Images"), None, None, match)              -> None (not a person's name:
                                                                  unattributed_folder says so)
    attribute(("coll",), None, None, match)                       -> None (straight under the root)
    attribute(("coll", "钱学森"), None, 3, match)                  -> 3    (--scientist)
    attribute(("coll", "钱学森"), "Hua Luogeng", 3, match)         -> 9    (the manifest row wins)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.changes import record_changes
from archive.events import METADATA_MODIFICATION, event_row, record_events
from archive.models import Item, Scientist
from archive.names import display_name
from archive.personnames import could_be_person_name
from archive.scientists import ScientistMatcher
from ingest.classify import folder_type

Match = Callable[[str], "int | None"]


@dataclass(frozen=True)
class NewScientist:
    """A scientist to create from a folder's name, because no known one matches."""
    name: str  # display form: 'Zhao Jiuzhang'
    folder: str  # the folder it comes from, kept as a variant: 'zhao_jiuzhang'


def _first_under_root(chain: tuple[str, ...]) -> str | None:
    """The folder that may name a new scientist: the first under the root, unless it is a
    type folder (信件/...) or the file lies straight under the root."""
    first = chain[1] if len(chain) > 1 else None
    if not first or folder_type(first) is not None:
        return None
    return first


def attribute(chain: tuple[str, ...], manifest_name: str | None, forced_id: int | None,
              match: Match) -> int | NewScientist | None:
    """The scientist of a file whose folders are `chain` (the root's own name, then the
    folders down to the file): an id, a NewScientist to create, or None (unattributed)."""
    if manifest_name:
        found = match(manifest_name)
        if found is not None:
            return found
    if forced_id is not None:
        return forced_id
    for name in reversed(chain):
        found = match(name)
        if found is not None:
            return found
    first = _first_under_root(chain)
    if first is None or not could_be_person_name(first):
        return None
    return NewScientist(display_name(first), first)


def unattributed_folder(chain: tuple[str, ...]) -> str | None:
    """For a file `attribute` left unattributed: the first folder under its root when that
    folder's name cannot be a person's ("Certs", "Images"), for the summary's hint to pass
    --scientist; None when there is no such folder to name."""
    first = _first_under_root(chain)
    return first if first is not None and not could_be_person_name(first) else None


class CachedMatcher:
    """ScientistMatcher.match with a memory: a collection has thousands of files per folder
    name, and each name is read into its pinyin keys once. Callable as a Match. The names are
    read with the first question, so a re-run that finds nothing new never reads them."""

    def __init__(self, load: Callable[[], ScientistMatcher]):
        self._load = load
        self._matcher: ScientistMatcher | None = None
        self._memo: dict[str, int | None] = {}

    @classmethod
    def of(cls, catalog: Catalog) -> CachedMatcher:
        """A matcher that reads the catalog's scientists when first asked."""
        def load() -> ScientistMatcher:
            with catalog.session() as s:
                return ScientistMatcher(s)
        return cls(load)

    @property
    def matcher(self) -> ScientistMatcher:
        if self._matcher is None:
            self._matcher = self._load()
        return self._matcher

    def __call__(self, name: str) -> int | None:
        try:
            return self._memo[name]
        except KeyError:
            found = self._memo[name] = self.matcher.match(name)
            return found

    def reload(self, session: Session) -> None:
        """Forget everything and read the scientists again (a batch that made some was
        rolled back)."""
        self._matcher = ScientistMatcher(session)
        self._memo.clear()

    def remember(self, scientist: Scientist) -> None:
        """A scientist was just created: names that matched nothing may match it now."""
        self.matcher.remember(scientist)
        self._memo.clear()


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
