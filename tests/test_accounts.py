"""Accounts (archive/accounts.py, `archive users`): names, roles, hashed passwords, disabling,
the growing delay and lock-out after failed sign-ins, events, and the viewer an account is to
the access rule (grants from approved, unexpired requests)."""
from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from archive.access import ANONYMOUS, viewer_for
from archive.accounts import (
    MAX_FAILURES, failure_delay, find_user, lockout_for, name_problem, password_problem,
    sign_in,
)
from archive.cli import main
from archive.models import AccessRequest, Event, Item, User, utcnow
from tests.catalogs import catalog_settings

PASSWORD = "correct horse battery"


@pytest.mark.parametrize(("failures", "delay"), [
    (0, 0.0), (1, 0.0), (2, 0.0), (3, 0.5), (4, 1.0), (5, 2.0), (6, 4.0), (10, 4.0), (50, 4.0),
])
def test_failure_delay_grows_and_is_capped(failures: int, delay: float) -> None:
    assert failure_delay(failures) == delay


def test_lockout_starts_at_the_tenth_failure_and_grows_to_a_day() -> None:
    assert lockout_for(MAX_FAILURES - 1) is None
    assert lockout_for(MAX_FAILURES) == dt.timedelta(minutes=15)
    assert lockout_for(MAX_FAILURES + 1) == dt.timedelta(minutes=30)
    assert lockout_for(100) == dt.timedelta(days=1)


@pytest.mark.parametrize(("name", "ok"), [
    ("li.wei", True), ("李伟", True), ("a", True), ("li wei", False), ("", False),
    ("a/b", False), ("a\\b", False), ("x" * 101, False),
])
def test_user_names(name: str, ok: bool) -> None:
    assert (name_problem(name) is None) == ok


def test_password_rules() -> None:
    assert password_problem("short") is not None
    assert password_problem(PASSWORD) is None
    assert password_problem("x" * 1001) is not None


def _users(cli, *args: str, password: str | None = PASSWORD):
    return cli("users", *args, input=None if password is None else password + "\n")


def test_users_commands_hash_passwords_and_record_events(cli, catalog_path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    r = _users(cli, "add", "ren", "--role", "researcher", "--email", "ren@example.org",
               "--password-stdin", "--by", "curator")
    assert r.exit_code == 0, r.output
    assert "Added ren (researcher)" in r.output
    # Asked twice without --password-stdin; a mismatch asks again.
    r = cli("users", "add", "sue", "--role", "staff",
            input=f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert "do not match" in r.output and r.output.count("Password: ") == 2
    assert PASSWORD not in r.output
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [
        ("ren", "researcher", False), ("sue", "staff", False)]
    assert cli("users", "role", "ren", "admin").exit_code == 0
    assert cli("users", "disable", "sue").exit_code == 0
    assert "disabled" in cli("users", "list").stdout
    assert cli("users", "enable", "sue").exit_code == 0
    r = _users(cli, "passwd", "sue", "--password-stdin", password="another long password")
    assert r.exit_code == 0, r.output

    from archive.catalog import Catalog
    catalog = Catalog.open(catalog_settings(catalog_path))
    with catalog.session() as s:
        ren = find_user(s, "ren")
        assert ren is not None and ren.role == "admin" and ren.email == "ren@example.org"
        assert ren.password_hash is not None and ren.password_hash.startswith("scrypt:")
        assert PASSWORD not in ren.password_hash
        events = [(e.kind, e.detail, e.agent, e.old_value, e.new_value)
                  for e in s.scalars(select(Event).order_by(Event.id))]
        sue = find_user(s, "sue")
        assert sue is not None and sign_in(s, "sue", "another long password").ok
    catalog.close()
    assert events[0] == ("account creation", "user ren", "curator", None, "researcher")
    assert [e[0] for e in events] == ["account creation", "account creation", "role change",
                                      "account disabled", "account enabled", "password change"]
    assert events[2][3:] == ("researcher", "admin")
    # Never in clear anywhere: not in events, not in the log.
    assert not any(PASSWORD in str(e) for e in events)
    assert PASSWORD not in caplog.text and "another long password" not in caplog.text


def test_users_commands_refuse_bad_input_with_a_message(cli) -> None:
    assert _users(cli, "add", "ren", "--role", "researcher", "--password-stdin").exit_code == 0
    again = _users(cli, "add", "ren", "--role", "staff", "--password-stdin")
    assert again.exit_code == 2 and "already a user 'ren'" in again.output
    short = _users(cli, "add", "amy", "--role", "staff", "--password-stdin", password="short")
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    spaced = _users(cli, "add", "a b", "--role", "staff", "--password-stdin")
    assert spaced.exit_code == 2 and "no spaces" in spaced.output
    role = _users(cli, "add", "amy", "--role", "king", "--password-stdin")
    assert role.exit_code == 2 and "king" in role.output
    nobody = cli("users", "disable", "nobody")
    assert nobody.exit_code == 2 and "no user 'nobody'" in nobody.output
    empty = cli("users", "passwd", "ren", "--password-stdin", input="\n")
    assert empty.exit_code == 2 and "no password on standard input" in empty.output
    assert "Traceback" not in "".join(r.output for r in (again, short, spaced, nobody, empty))


def test_every_users_command_has_help() -> None:
    for sub in ("add", "list", "disable", "enable", "passwd", "role"):
        r = CliRunner().invoke(main, ["users", sub, "--help"])
        assert r.exit_code == 0 and len(r.output) > 80


def test_sign_in_counts_failures_locks_and_refuses_disabled(catalog) -> None:
    from archive.accounts import add_user, set_disabled
    with catalog.session() as s:
        add_user(s, "ren", "researcher", PASSWORD)
    now = dt.datetime(2026, 6, 1, 12, 0)
    with catalog.session() as s:
        assert sign_in(s, "ren", PASSWORD, now=now, unit=0).ok
        for n in range(1, MAX_FAILURES + 1):
            outcome = sign_in(s, "ren", "wrong password", now=now, unit=1.0)
            assert not outcome.ok and outcome.delay == failure_delay(n, 1.0)
        assert outcome.locked_until == now + dt.timedelta(minutes=15)
        # Locked: the right password is refused too, until the lock runs out.
        assert not sign_in(s, "ren", PASSWORD, now=now + dt.timedelta(minutes=14)).ok
        later = sign_in(s, "ren", PASSWORD, now=now + dt.timedelta(minutes=16))
        assert later.ok and find_user(s, "ren").failed_logins == 0  # type: ignore[union-attr]
        kinds = list(s.scalars(select(Event.kind)))
        assert kinds.count("account lockout") == 1
        set_disabled(s, "ren", True)
        assert not sign_in(s, "ren", PASSWORD).ok
        assert not sign_in(s, "nobody", PASSWORD).ok


def test_viewer_for_takes_approved_unexpired_grants_only(catalog) -> None:
    now = utcnow()
    with catalog.session() as s:
        items = [Item(accession=f"T-L-{n:05}", title="t", type="letter", access="restricted")
                 for n in range(1, 6)]
        user = User(name="ren", role="researcher", failed_logins=0)
        other = User(name="amy", role="researcher", failed_logins=0)
        s.add_all([*items, user, other])
        s.flush()

        def request(item: Item, status: str, expires: dt.datetime | None,
                    who: User = user) -> AccessRequest:
            return AccessRequest(user_id=who.id, item_id=item.id, reason="r", status=status,
                                 expires_at=expires)
        s.add_all([
            request(items[0], "approved", now + dt.timedelta(days=30)),  # a grant
            request(items[1], "approved", now - dt.timedelta(seconds=1)),  # expired
            request(items[2], "pending", now + dt.timedelta(days=30)),
            request(items[3], "denied", now + dt.timedelta(days=30)),
            request(items[4], "approved", None),  # no end: no grant
            request(items[1], "approved", now + dt.timedelta(days=30), who=other),
        ])
        s.flush()
        viewer = viewer_for(s, user, now)
        assert viewer.name == "ren" and viewer.role == "researcher"
        assert viewer.granted == frozenset({items[0].id})
        assert viewer_for(s, other, now).granted == frozenset({items[1].id})
        assert viewer_for(s, None) is ANONYMOUS
        user.disabled_at = now
        assert viewer_for(s, user) is ANONYMOUS


def test_accounts_grants_and_site_sign_in_on_postgresql(postgres_url, tmp_path) -> None:
    """The same on a server catalog: the failure count in SQL, grants, and the site's writable
    accounts connection beside its read-only one (the key from the setting: a server catalog
    has no folder to keep one in)."""
    import re

    from archive.accounts import add_user
    from archive.catalog import Catalog
    from archive.settings import load_settings
    from web.app import create_app
    settings = load_settings({"catalog": postgres_url, "secret_key": "k" * 40,
                              "index_dir": str(tmp_path / "index"),
                              "derivatives_dir": str(tmp_path / "derivatives")}, environ={})
    catalog = Catalog.open(settings)
    with catalog.session() as s:
        add_user(s, "ren", "researcher", PASSWORD)
        item = Item(accession="T-L-00001", title="t", type="letter", access="restricted")
        s.add(item)
        s.flush()
        ren = find_user(s, "ren")
        assert ren is not None
        s.add(AccessRequest(user_id=ren.id, item_id=item.id, reason="r", status="approved",
                            expires_at=utcnow() + dt.timedelta(days=1)))
    with catalog.session() as s:
        for _ in range(3):
            assert sign_in(s, "ren", "wrong", unit=0).delay == 0
        assert find_user(s, "ren").failed_logins == 3  # type: ignore[union-attr]
        assert viewer_for(s, find_user(s, "ren")).granted == frozenset({item.id})
    app = create_app(settings)
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    r = client.post("/login", data={"name": "ren", "password": PASSWORD, "next": "/account",
                                    "csrf_token": csrf.group(1)})
    assert r.status_code == 302 and r.headers["Location"] == "/account"
    assert "ren" in client.get("/account").get_data(as_text=True)
    with catalog.session() as s:
        assert find_user(s, "ren").failed_logins == 0  # type: ignore[union-attr]
    app.extensions["archive"].close()
    catalog.close()
