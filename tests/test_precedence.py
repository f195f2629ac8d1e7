"""Precedence is the latest change (#11 Editing): a manifest re-applied unchanged never undoes
an edit; when both changed, the later wins, and both are events."""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from sqlalchemy import select
from test_editing import _text, item

from archive.models import Event
from archive.precedence import NEVER, manifest_wins
from benchmarks.generators.samples import make_jpeg
from conftest import write_manifest


def test_the_rule():
    t1, t2 = dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1)
    assert manifest_wins("B", "A", None, t1)
    assert not manifest_wins("A", "A", t2, t1)
    assert not manifest_wins("A", "A", None, t1)
    assert not manifest_wins("B", "A", t2, t1)
    assert manifest_wins("B", "A", t1, t2)
    assert manifest_wins("B", NEVER, None, t1)
    assert not manifest_wins("B", NEVER, t2, t1)


def _manifest(coll: Path, title: str, location: str, mtime: float | None = None) -> Path:
    path = write_manifest(coll / "manifest.csv", [
        ["path", "scientist", "title", "location"],
        ["钱学森/信件/letter_1950.jpg", "钱学森", title, location]])
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def events(catalog, field: str) -> list[tuple[str | None, str | None, str]]:
    with catalog.session() as s:
        return [(e.new_value, e.detail, e.outcome) for e in s.scalars(
            select(Event).where(Event.field == field).order_by(Event.id))]


def test_a_later_edit_stands_and_a_later_manifest_wins(cli, tmp_path, catalog):
    coll = tmp_path / "coll"
    make_jpeg(coll / "钱学森" / "信件" / "letter_1950.jpg")
    _text(coll / "钱学森" / "信件" / "letter_1950.txt", "导弹研究")
    assert cli("scientists", "add", "钱学森").exit_code == 0
    manifest = _manifest(coll, "初稿标题", "Box 1", time.time() - 3600)
    assert cli("ingest", str(coll), "--manifest", str(manifest), "--quiet").exit_code == 0
    assert item(catalog, "QXS-L-00001").title == "初稿标题"

    # An edit after the manifest was saved: re-running the unchanged manifest keeps it.
    assert cli("edit", "QXS-L-00001", "--title", "改正的标题").exit_code == 0
    assert cli("ingest", str(coll), "--manifest", str(manifest), "--quiet").exit_code == 0
    assert item(catalog, "QXS-L-00001").title == "改正的标题"
    assert [e[2] for e in events(catalog, "title")] == ["success"]  # the edit, nothing else

    # The row changed later than the edit: the manifest wins, and says so. Saved a second
    # later: a file's time comes from the kernel's coarse clock, which may lag the edit's.
    manifest = _manifest(coll, "清单的新标题", "Box 2", time.time() + 1)
    assert cli("ingest", str(coll), "--manifest", str(manifest), "--quiet").exit_code == 0
    letter = item(catalog, "QXS-L-00001")
    assert (letter.title, letter.location) == ("清单的新标题", "Box 2")

    # Edited again, then a row changed but saved before that edit: the edit stands; the
    # manifest's change is on record as not applied; the untouched field follows the row.
    assert cli("edit", "QXS-L-00001", "--title", "最后的改正").exit_code == 0
    manifest = _manifest(coll, "旧清单标题", "Box 3", time.time() - 600)
    assert cli("ingest", str(coll), "--manifest", str(manifest), "--quiet").exit_code == 0
    letter = item(catalog, "QXS-L-00001")
    assert (letter.title, letter.location) == ("最后的改正", "Box 3")
    last = events(catalog, "title")[-1]
    assert last[0] == "旧清单标题" and last[2] == "not applied"
    assert "edited later" in (last[1] or "")
    # Once seen, the outranked row is not reported again.
    count = len(events(catalog, "title"))
    assert cli("ingest", str(coll), "--manifest", str(manifest), "--quiet").exit_code == 0
    assert len(events(catalog, "title")) == count
    assert item(catalog, "QXS-L-00001").title == "最后的改正"
