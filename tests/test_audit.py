"""The audit log (#16 The audit log): views of restricted and closed material are recorded
(open material is not), and `archive audit` reads them by item, person and time."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from archive.audit import REFUSED, audited, read_since, record_view
from archive.errors import UsageError
from archive.models import Item
from test_editing import small  # noqa: F401 - the fixture is used by name


def test_what_is_audited_and_since():
    assert audited("restricted", None) and audited("closed", None)
    assert not audited("open", None)
    assert not audited("closed", dt.date(2020, 1, 1), dt.date(2026, 1, 1))  # unsealed: open
    assert audited("closed", dt.date(2051, 1, 1), dt.date(2026, 1, 1))
    assert read_since("2026-12-01") == dt.datetime(2026, 12, 1)
    assert read_since("2026-12-01T18:30+08:00") == dt.datetime(2026, 12, 1, 10, 30)
    with pytest.raises(UsageError, match="cannot read 'yesterday' as a date"):
        read_since("yesterday")


def test_audit_command_filters(cli, catalog, small):  # noqa: F811
    assert cli("edit", "QXS-L-00001", "--access", "restricted").exit_code == 0
    assert cli("edit", "QXS-P-00001", "--access", "closed").exit_code == 0
    at = dt.datetime(2026, 12, 1, 9, 0)
    with catalog.session() as s:
        items = {i.accession: i for i in s.scalars(select(Item))}
        assert record_view(s, items["QXS-L-00001"], "page", "wang", "10.0.0.7",
                           "/items/QXS-L-00001", at=at)
        assert record_view(s, items["QXS-P-00001"], "file", None, "10.0.0.8",
                           "/items/QXS-P-00001/files/x.jpg", REFUSED,
                           at=at + dt.timedelta(days=1))
        assert not record_view(s, items["ZJZ-L-00001"], "page", "wang", "10.0.0.7", "/x")
    lines = cli("audit").stdout.splitlines()
    assert lines == [
        "2026-12-01 09:00:00  wang  QXS-L-00001  page  served  10.0.0.7  /items/QXS-L-00001",
        "2026-12-02 09:00:00  (anonymous)  QXS-P-00001  file  refused  10.0.0.8  "
        "/items/QXS-P-00001/files/x.jpg"]
    rows = [json.loads(x) for x in cli("audit", "--item", "qxs-p-00001", "--json")
            .stdout.splitlines()]
    assert rows == [{"at": "2026-12-02T09:00:00Z", "user": None, "accession": "QXS-P-00001",
                     "action": "file", "outcome": "refused", "address": "10.0.0.8",
                     "path": "/items/QXS-P-00001/files/x.jpg"}]
    assert len(cli("audit", "--user", "wang").stdout.splitlines()) == 1
    assert len(cli("audit", "--since", "2026-12-02").stdout.splitlines()) == 1
    assert cli("audit", "--user", "nobody").stdout == "No entries.\n"
    bad = cli("audit", "--since", "soon")
    assert bad.exit_code == 2 and "cannot read 'soon' as a date" in bad.stderr
