"""Keeping the scientists right after the fact: merging two records of one person, renaming,
correcting facts, and refusing a name that would make a second record of someone already
there. Items keep their accession numbers whatever happens to their scientist; every change
is an event, and the items whose scientist changed are noted for the search index.

    clashes("朱光亚", {"Zhu Guangya": ({"zhuguangya"}, {"zhuguangya"})})   -> ["Zhu Guangya"]
    clashes("Zhu Guangya", {"朱光亚": ({"朱光亚", "zhuguangya"}, {"朱光亚"})}) -> ["朱光亚"]
    clashes("王立", {"王力": ({"王力", "wangli", "liwang"}, {"王力"})})       -> []
        (the same sound is not the same name: only a romanised form recorded for someone
        counts against a name in characters)
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.changes import record_changes
from archive.errors import UsageError
from archive.events import MERGE, METADATA_MODIFICATION, event_row, record_events
from archive.models import Item, Scientist, ScientistName
from archive.names import fold_name, has_han, name_keys
from archive.scientists import ScientistMatcher, ScientistRecord, upsert_scientist

Known = Mapping[str, tuple[set[str], set[str]]]  # preferred name -> (keys, recorded forms)


def clashes(form: str, others: Known) -> list[str]:
    """The scientists (by preferred name) a written form would be taken for: its folded form
    is one of their matching keys, or, for a name in characters, one of its pinyin readings is
    a (folded) form recorded for them."""
    own = fold_name(form)
    readings = name_keys(form) if has_han(form) else set()
    return [name for name, (keys, recorded) in others.items()
            if own in keys or readings & recorded]


def _known(s: Session, but: Scientist | None = None) -> dict[str, tuple[set[str], set[str]]]:
    out: dict[str, tuple[set[str], set[str]]] = {}
    for sci in s.scalars(select(Scientist)):
        if but is not None and sci.id == but.id:
            continue
        forms = [sci.name, *(sci.variants or []), *(n.name for n in sci.names)]
        out[sci.name] = ({n.key for n in sci.names} | name_keys(sci.name),
                         {fold_name(f) for f in forms})
    return out


def _arg(text: str) -> str:
    """A name as typed on a command line: quoted when it holds spaces or shell characters."""
    return text if re.fullmatch(r"[\w.·-]+", text) else '"' + text.replace('"', '\\"') + '"'


def _check_forms(s: Session, forms: Sequence[str], owner: Scientist | None) -> None:
    """UsageError (one line, naming the command to run) if any form would be taken for a
    scientist other than `owner`."""
    others = _known(s, but=owner)
    for form in forms:
        found = clashes(form, others)
        if not found:
            continue
        other = found[0]
        if owner is not None:
            advice = (f"if they are one person, run `archive scientists merge {_arg(other)} "
                      f"{_arg(owner.name)}`")
        else:
            advice = (f"if it is the same person, add the name to that record with `archive "
                      f"scientists add {_arg(other)} --variant {_arg(form)}` or make it the "
                      f"preferred name with `archive scientists rename {_arg(other)} "
                      f"{_arg(form)}`; two records of one person are joined with `archive "
                      f"scientists merge FROM INTO`")
        raise UsageError(f"{form!r} matches the existing scientist {other!r}; nothing was "
                         f"changed; {advice}")


def add_scientist(s: Session, record: ScientistRecord) -> tuple[Scientist, bool]:
    """`archive scientists add`: a new scientist, or new variants and facts for the one with
    this preferred name; never a second record of someone already there (#12.7)."""
    owner = s.scalars(select(Scientist).where(Scientist.name == record.name)).first()
    have = {n.name for n in owner.names} if owner is not None else set()
    _check_forms(s, [f for f in (record.name, *record.variants) if f not in have], owner)
    return upsert_scientist(s, record)


def find_one(s: Session, name: str) -> Scientist:
    """The scientist by preferred name, else by any name or variant; a name that fits several
    is refused with their preferred names, so nothing is changed on a guess."""
    exact = s.scalars(select(Scientist).where(Scientist.name == name.strip())).first()
    if exact is not None:
        return exact
    matcher = ScientistMatcher(s)
    sid = matcher.match(name)
    if sid is not None:
        found = s.get(Scientist, sid)
        assert found is not None
        return found
    wanted = name_keys(name) | {fold_name(name)}
    candidates = sorted(n for n, (keys, _) in _known(s).items() if keys & wanted)
    if candidates:
        raise UsageError(f"{name!r} could be any of {', '.join(candidates)}; give the "
                         "preferred name")
    raise UsageError(f"unknown scientist {name!r}; `archive scientists list` shows them")


def _names_of(sci: Scientist) -> list[str]:
    forms = [sci.name, *(sci.variants or [])]
    return list(dict.fromkeys(f for f in forms if f))


def _add_variants(sci: Scientist, forms: Iterable[str]) -> None:
    known = list(sci.variants or [])
    for form in forms:
        if form != sci.name and form not in known:
            known.append(form)
    sci.variants = known or None
    have = {n.key for n in sci.names}
    for form in forms:
        for key in sorted(name_keys(form)):
            if key not in have:
                have.add(key)
                sci.names.append(ScientistName(name=form, key=key, kind="variant"))


def _item_ids(s: Session, scientist_id: int) -> list[int]:
    return list(s.scalars(select(Item.id).where(Item.scientist_id == scientist_id)))


def merge_scientists(s: Session, source: str, target: str, agent: str | None = None) -> int:
    """Move every item and name of `source` to `target` and remove `source`; returns how many
    items moved. Accession numbers do not change; each moved item gets a `merge` event."""
    a, b = find_one(s, source), find_one(s, target)
    if a.id == b.id:
        raise UsageError(f"{source!r} and {target!r} are the same scientist ({a.name})")
    moved = _item_ids(s, a.id)
    s.execute(update(Item).where(Item.scientist_id == a.id).values(scientist_id=b.id)
              .execution_options(synchronize_session=False))
    record_events(s, [event_row(MERGE, item_id=i, agent=agent, field="scientist", old=a.name,
                                new=b.name, detail=f"scientists merge {a.name} into {b.name}")
                      for i in moved])
    for attr in ("born", "died", "field", "biography"):
        if getattr(b, attr) is None and getattr(a, attr) is not None:
            setattr(b, attr, getattr(a, attr))
    forms = _names_of(a)
    a_id, a_name = a.id, a.name
    s.delete(a)  # its name rows go with it (cascade); the forms live on as b's variants
    s.flush()
    _add_variants(b, forms)
    record_events(s, [event_row(MERGE, agent=agent, field="scientist", old=a_name,
                                new=b.name, detail=f"scientist {a_name} (id {a_id}) merged "
                                f"into {b.name}: {len(moved)} item(s) moved")])
    s.flush()
    record_changes(s, _item_ids(s, b.id))  # their index documents carry every name
    return len(moved)


def rename_scientist(s: Session, name: str, new: str, agent: str | None = None) -> str:
    """Make `new` the preferred name; the old one (returned) becomes a variant. The accession
    code stays."""
    sci = find_one(s, name)
    new = new.strip()
    if not new:
        raise UsageError("the new name cannot be empty")
    if new == sci.name:
        raise UsageError(f"{sci.name!r} is already the preferred name")
    taken = s.scalars(select(Scientist).where(Scientist.name == new)).first()
    if taken is not None:
        raise UsageError(f"{new!r} is another scientist's preferred name; if they are one "
                         f"person, run `archive scientists merge {_arg(sci.name)} {_arg(new)}`")
    _check_forms(s, [new], sci)
    old = sci.name
    for n in sci.names:
        if n.kind == "preferred":
            n.kind = "variant"
    sci.name = new
    sci.variants = [v for v in (sci.variants or []) if v != new] or None
    _add_variants(sci, [old])
    have = {n.key for n in sci.names}
    for key in sorted(name_keys(new)):
        if key not in have:
            sci.names.append(ScientistName(name=new, key=key, kind="preferred"))
    record_events(s, [event_row(METADATA_MODIFICATION, agent=agent, field="scientist name",
                                old=old, new=new, detail=f"scientist id {sci.id} renamed")])
    s.flush()
    record_changes(s, _item_ids(s, sci.id))
    return old


SCIENTIST_FACTS = ("born", "died", "field", "biography")


def edit_scientist(s: Session, name: str, facts: Mapping[str, object],
                   agent: str | None = None) -> list[tuple[str, object, object]]:
    """Set born, died, field or biography (None leaves a fact, "" clears a text); returns
    (fact, old, new) for each that changed, each an event."""
    sci = find_one(s, name)
    changed: list[tuple[str, object, object]] = []
    for fact, value in facts.items():
        if fact not in SCIENTIST_FACTS:
            raise UsageError(f"{fact!r} is not a fact of a scientist")
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip() or None
        old = getattr(sci, fact)
        if old != value:
            setattr(sci, fact, value)
            changed.append((fact, old, value))
    born, died = sci.born, sci.died
    if born is not None and died is not None and died < born:
        raise UsageError(f"died {died} is before born {born}; nothing was changed")
    record_events(s, [event_row(METADATA_MODIFICATION, agent=agent, field=f"scientist {f}",
                                old=o, new=n, detail=f"scientist {sci.name}")
                      for f, o, n in changed])
    return changed
