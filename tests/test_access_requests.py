"""Access requests on the command line (#16 Access requests): a researcher's request, staff's
approval (a grant for that item only, that expires) or denial, every step an event."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from archive.access import Viewer, can_see
from archive.access_requests import (
    ACCESS_DENIED, ACCESS_GRANTED, ACCESS_REQUESTED, approve, deny, grant_ends, list_requests,
    state_of, submit_request,
)
from archive.errors import NotFound, UsageError
from archive.models import AccessRequest, Event, Item, User
from test_editing import small  # noqa: F401 - the fixture is used by name

NOW = dt.datetime(2026, 12, 1, 12, 0)


def test_states_and_grant_ends():
    assert state_of("pending", None, NOW) == "pending"
    assert state_of("approved", NOW + dt.timedelta(days=1), NOW) == "approved"
    assert state_of("approved", NOW - dt.timedelta(seconds=1), NOW) == "expired"
    assert state_of("approved", None, NOW) == "expired"  # every grant ends
    assert state_of("denied", None, NOW) == "denied"
    assert grant_ends(NOW, 30) == NOW + dt.timedelta(days=30)
    with pytest.raises(ValueError, match="a grant lasts 1 to 3650 days"):
        grant_ends(NOW, 0)


@pytest.fixture
def people(cli, catalog, small):  # noqa: F811
    """Two researchers; QXS-L-00001 restricted, QXS-P-00001 closed."""
    assert cli("edit", "QXS-L-00001", "--access", "restricted").exit_code == 0
    assert cli("edit", "QXS-P-00001", "--access", "closed").exit_code == 0
    with catalog.session() as s:
        s.add_all([User(name="wang", role="researcher"), User(name="zhou", role="researcher")])
    return catalog


def _user(s, name: str) -> User:
    return s.scalars(select(User).where(User.name == name)).one()


def _item(s, accession: str) -> Item:
    return s.scalars(select(Item).where(Item.accession == accession)).one()


def _granted(s, name: str, now: dt.datetime) -> frozenset[int]:
    """What the grants give this person now, as the site's viewer holds them."""
    return frozenset(r.item_id for r in s.scalars(select(AccessRequest).where(
        AccessRequest.user_id == _user(s, name).id, AccessRequest.status == "approved",
        AccessRequest.expires_at > now)))


def test_request_approve_see_expire(cli, people):
    with people.session() as s:
        request = submit_request(s, _user(s, "wang"), "qxs-l-00001", " 写论文需要 ", now=NOW)
        rid = request.id
    result = cli("requests", "list", "--status", "pending")
    assert result.exit_code == 0
    assert f"#{rid}  pending   QXS-L-00001  wang  asked 2026-12-01  写论文需要" in result.stdout
    result = cli("requests", "approve", str(rid), "--days", "7", "--note", "已核实",
                 "--by", "Li Wei")
    assert result.exit_code == 0, result.output
    assert f"Approved request #{rid}: wang may see QXS-L-00001 until" in result.stdout
    with people.session() as s:
        request = s.get(AccessRequest, rid)
        assert (request.status, request.decided_by, request.note) == \
            ("approved", "Li Wei", "已核实")
        ends = request.expires_at
        assert dt.timedelta(days=7) - (ends - dt.datetime.now(dt.UTC).replace(tzinfo=None)) \
            < dt.timedelta(minutes=1)
        letter, photo, other = (_item(s, a) for a in ("QXS-L-00001", "QXS-P-00001",
                                                        "ZJZ-L-00001"))
        wang = Viewer("wang", "researcher", _granted(s, "wang", ends - dt.timedelta(hours=1)))
        zhou = Viewer("zhou", "researcher", _granted(s, "zhou", ends - dt.timedelta(hours=1)))
        assert can_see(wang, letter) and not can_see(zhou, letter)
        assert not can_see(wang, photo)  # the grant is for that item only
        assert can_see(wang, other)  # open
        expired = Viewer("wang", "researcher", _granted(s, "wang", ends))
        assert not can_see(expired, letter)
        assert [x.state for x in list_requests(s, now=ends)] == ["expired"]
        kinds = [(e.kind, e.agent) for e in s.scalars(
            select(Event).where(Event.item_id == letter.id,
                                Event.kind.in_((ACCESS_REQUESTED, ACCESS_GRANTED))))]
        assert kinds == [(ACCESS_REQUESTED, "wang"), (ACCESS_GRANTED, "Li Wei")]
    lines = [json.loads(x) for x in cli("requests", "list", "--json").stdout.splitlines()]
    assert lines[0]["status"] == "approved" and lines[0]["user"] == "wang"
    assert set(lines[0]) == {"id", "user", "accession", "title", "reason", "status",
                             "created_at", "decided_at", "decided_by", "note", "expires_at"}
    again = cli("requests", "approve", str(rid))
    assert again.exit_code == 2 and f"request #{rid} was already approved" in again.stderr


def test_deny_and_bad_requests(cli, people):
    with people.session() as s:
        rid = submit_request(s, _user(s, "zhou"), "QXS-L-00001", "好奇", now=NOW).id
        with pytest.raises(UsageError, match="already asked for QXS-L-00001"):
            submit_request(s, _user(s, "zhou"), "QXS-L-00001", "再问", now=NOW)
        with pytest.raises(UsageError, match="closed items cannot be requested"):
            submit_request(s, _user(s, "zhou"), "QXS-P-00001", "x", now=NOW)
        with pytest.raises(UsageError, match="is open"):
            submit_request(s, _user(s, "zhou"), "ZJZ-L-00001", "x", now=NOW)
        with pytest.raises(UsageError, match="say why"):
            submit_request(s, _user(s, "wang"), "QXS-L-00001", "  ", now=NOW)
        with pytest.raises(NotFound):
            submit_request(s, _user(s, "wang"), "QXS-L-09999", "x", now=NOW)
    result = cli("requests", "deny", str(rid), "--note", "理由不足", "--by", "Li Wei")
    assert result.exit_code == 0 and f"Denied request #{rid} of zhou" in result.stdout
    with people.session() as s:
        assert _granted(s, "zhou", NOW) == frozenset()
        assert s.scalars(select(Event.detail).where(Event.kind == ACCESS_DENIED)).one() == \
            f"request #{rid} by zhou: 理由不足"
        assert [x.id for x in list_requests(s, ["denied"])] == [rid]
        assert list_requests(s, ["pending"]) == []
        assert list_requests(s, user="wang") == []  # one person's requests are theirs alone
        with pytest.raises(UsageError, match="was already denied"):
            approve(s, rid, "someone")
        with pytest.raises(UsageError, match="was already denied"):
            deny(s, rid, "someone")
    assert cli("requests", "approve", "999").exit_code == 2
    assert "no access request #999" in cli("requests", "deny", "999").stderr
    assert cli("requests", "approve", str(rid), "--days", "0").exit_code == 2
    assert cli("requests", "list", "--status", "lost").exit_code == 2
    assert cli("requests", "list").stdout.count("\n") == 1


def test_forgetting_an_items_last_file_ends_its_requests(cli, people, small):  # noqa: F811
    """An item whose files were all catalogued by mistake goes; its requests and grants go with
    it (they were for that item only), their history stays in the events."""
    with people.session() as s:
        rid = submit_request(s, _user(s, "wang"), "QXS-L-00001", "论文", now=NOW).id
    assert cli("requests", "approve", str(rid)).exit_code == 0
    letters = small / "钱学森" / "信件"
    result = cli("forget", str(letters / "letter_1950.jpg"), str(letters / "letter_1950.txt"),
                 "--reason", "catalogued by mistake")
    assert result.exit_code == 0, result.output
    with people.session() as s:
        assert s.scalars(select(AccessRequest)).all() == []
        details = s.scalars(select(Event.detail).where(Event.kind == ACCESS_GRANTED)).all()
        assert details and details[0].startswith(f"request #{rid} by wang")
    assert cli("requests", "list").stdout == "No requests.\n"


def test_sealing_requests_and_audit_on_postgres(postgres_url, small, tmp_path,  # noqa: F811
                                                monkeypatch):
    """The same SQL on PostgreSQL (skipped without ARCHIVE_TEST_POSTGRES_URL)."""
    from click.testing import CliRunner

    from archive.audit import record_view
    from archive.catalog import Catalog
    from archive.cli import main
    from archive.settings import load_settings
    monkeypatch.chdir(tmp_path)  # a server catalog keeps its index in the working folder

    def pg(*args: str, input: str | None = None):
        return CliRunner().invoke(main, ["--catalog", postgres_url, *args], input=input,
                                  catch_exceptions=False)
    assert pg("scientists", "add", "钱学森").exit_code == 0
    assert pg("ingest", str(small), "--quiet").exit_code == 0
    assert pg("edit", "QXS-L-00001", "--access", "restricted", "--access-until",
              "2051").exit_code == 0
    assert "sealed until 2051-01-01" in pg("show", "QXS-L-00001").stdout
    assert pg("users", "add", "wang", "--role", "researcher", "--password-stdin",
              input="correct horse battery\n").exit_code == 0
    catalog = Catalog.open(load_settings({"catalog": postgres_url}, environ={}))
    try:
        with catalog.session() as s:
            rid = submit_request(s, _user(s, "wang"), "QXS-L-00001", "论文").id
            record_view(s, _item(s, "QXS-L-00001"), "page", "wang", "10.0.0.7", "/items/x")
    finally:
        catalog.close()
    assert pg("requests", "approve", str(rid), "--days", "3").exit_code == 0
    listed = [json.loads(x) for x in pg("requests", "list", "--status", "approved", "--json")
              .stdout.splitlines()]
    assert [(x["id"], x["user"], x["status"]) for x in listed] == [(rid, "wang", "approved")]
    rows = [json.loads(x) for x in pg("audit", "--since", "2000-01-01", "--item", "qxs-l-00001",
                                      "--json").stdout.splitlines()]
    assert [(r["user"], r["action"], r["outcome"]) for r in rows] == [("wang", "page", "served")]
