"""The change log followers read, the one public rule, event rows, and the lazy command list."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

from sqlalchemy import select

from archive.access import is_public, public_items
from archive.changes import changed_since, latest_seq, record_changes
from archive.events import agent_name, event_row, record_events
from archive.models import Event, Item


def _item(s, accession: str, access: str = "open") -> Item:
    item = Item(accession=accession, title=accession, type="letter", access=access)
    s.add(item)
    s.flush()
    return item


def test_changes_only_grow_and_name_the_latest_kind(catalog):
    # Change rows are written as their transaction commits (seqs commit in order).
    with catalog.session() as s:
        assert latest_seq(s) == 0
        a, b = _item(s, "A-L-00001"), _item(s, "A-L-00002")
        record_changes(s, {a.id, b.id})
        assert latest_seq(s) == 0
    with catalog.session() as s:
        first = latest_seq(s)
        record_changes(s, [b.id], "delete")
    with catalog.session() as s:
        assert latest_seq(s) == first + 1
        assert changed_since(s, 0) == {a.id: "update", b.id: "delete"}
        assert changed_since(s, first) == {b.id: "delete"}
        assert changed_since(s, latest_seq(s)) == {}


def test_recording_a_change_moves_updated_at(catalog):
    with catalog.session() as s:
        item = _item(s, "A-L-00001")
        item.updated_at = dt.datetime(2000, 1, 1)
        s.flush()
        record_changes(s, [item.id])
        s.expire_all()
        assert s.get(Item, item.id).updated_at > dt.datetime(2001, 1, 1)


def test_public_means_open_and_not_withdrawn(catalog):
    assert is_public("open") and not is_public("restricted") and not is_public("closed")
    assert not is_public("open", dt.datetime(2026, 1, 1))
    with catalog.session() as s:
        _item(s, "A-L-00001")
        _item(s, "A-L-00002", "restricted")
        gone = _item(s, "A-L-00003")
        gone.withdrawn_at = dt.datetime(2026, 1, 1)
        s.flush()
        assert list(s.scalars(select(Item.accession).where(public_items()))) == ["A-L-00001"]


def test_event_rows_carry_agent_tool_and_values(catalog):
    assert agent_name("  Li Wei ") == "Li Wei"
    assert agent_name(None)  # the operating-system user, never empty
    with catalog.session() as s:
        item = _item(s, "A-L-00001")
        record_events(s, [event_row("metadata modification", item_id=item.id, agent="Li Wei",
                                    field="title", old="旧", new="新")])
    with catalog.session() as s:
        e = s.scalars(select(Event)).one()
        assert (e.agent, e.field, e.old_value, e.new_value) == ("Li Wei", "title", "旧", "新")
        assert e.tool.startswith("archive ")


def test_help_lists_every_command_without_importing_them():
    code = ("import sys; from click.testing import CliRunner; from archive.cli import main, "
            "COMMANDS; r = CliRunner().invoke(main, ['--help']); "
            "assert r.exit_code == 0, r.output; "
            "assert all(name in r.output for name in COMMANDS), r.output; "
            "loaded = [m for m in COMMANDS.values() if m in sys.modules]; "
            "assert not loaded, loaded; assert 'sqlalchemy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
