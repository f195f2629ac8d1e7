"""Accounts of the people who sign in to the site: adding them, their roles, passwords (hashed
with Werkzeug's scrypt, never kept or logged in clear), disabling, and checking a sign-in with a
growing delay and a lock-out after repeated failures. Every change is a provenance event.

    name_problem("li.wei")          -> None
    name_problem("li wei")          -> "a user name has no spaces ..."
    password_problem("short")       -> "a password needs at least 10 characters ..."
    failure_delay(2)                -> 0.0    (the first two mistakes cost nothing)
    failure_delay(3)                -> 0.5    then 1, 2, 4 seconds, and 4 from then on
    failure_delay(10, unit=0.05)    -> 0.4
    lockout_for(9)                  -> None   (not yet)
    lockout_for(10)                 -> 15 minutes, doubling with each further failure, at most a day
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.access import ROLES
from archive.errors import AccountError, NotFound
from archive.events import event_row, record_events
from archive.models import User, utcnow

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
MAX_PASSWORD = 1000  # scrypt hashes anything, but nobody types more: a cheap guard on cost
MAX_FAILURES = 10  # failed sign-ins in a row before the account is locked
LOCKOUT = dt.timedelta(minutes=15)
MAX_LOCKOUT = dt.timedelta(days=1)
DELAY_UNIT = 0.5  # seconds; the site may make it smaller in tests (app.config LOGIN_DELAY_UNIT)
_NAME = re.compile(r"[^\s/\\]{1,100}")

# Provenance event kinds for accounts (events with no item; `detail` names the user).
ACCOUNT_CREATED = "account creation"
ACCOUNT_DISABLED = "account disabled"
ACCOUNT_ENABLED = "account enabled"
PASSWORD_CHANGED = "password change"
ROLE_CHANGED = "role change"
ACCOUNT_LOCKED = "account lockout"



@cache
def _dummy_hash() -> str:
    """Compared against when the name is unknown, so an unknown name costs as long as a wrong
    password and the time taken does not say which names exist."""
    return hash_password("not a password of anyone")


def _matches(password_hash: str, password: str) -> bool:
    # Werkzeug is imported when a password is checked, not by `archive users --help`.
    from werkzeug.security import check_password_hash
    return check_password_hash(password_hash, password)


def name_problem(name: str) -> str | None:
    """Why a user name cannot be used, or None: 1 to 100 characters, no spaces or slashes."""
    if not _NAME.fullmatch(name):
        return (f"a user name has no spaces or slashes and is 1 to 100 characters long "
                f"(got {name!r})")
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters; choose a longer one"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    return None


def role_problem(role: str) -> str | None:
    return None if role in ROLES else f"unknown role {role!r}; use one of {', '.join(ROLES)}"


def hash_password(password: str) -> str:
    from werkzeug.security import generate_password_hash
    return generate_password_hash(password, method="scrypt")


def password_stamp(password_hash: str | None) -> str:
    """A short digest of the stored hash, kept in the session cookie: a changed password ends
    every other session (the stamp no longer matches), without the hash leaving the server."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def failure_delay(failures: int, unit: float = DELAY_UNIT) -> float:
    """Seconds to wait before answering the `failures`-th failed sign-in in a row."""
    if failures < 3:
        return 0.0
    return unit * min(2 ** (failures - 3), 8)


def lockout_for(failures: int) -> dt.timedelta | None:
    """How long the account is locked after this many failed sign-ins in a row."""
    if failures < MAX_FAILURES:
        return None
    return min(LOCKOUT * 2 ** min(failures - MAX_FAILURES, 10), MAX_LOCKOUT)


@dataclass(frozen=True)
class Account:
    """A user as `archive users list` shows one (never the hash)."""
    name: str
    role: str
    email: str | None
    disabled: bool
    locked_until: dt.datetime | None
    failed_logins: int
    last_login_at: dt.datetime | None
    created_at: dt.datetime

    def to_json(self) -> dict[str, object]:
        def when(t: dt.datetime | None) -> str | None:
            return t.isoformat(timespec="seconds") + "Z" if t else None
        return {"name": self.name, "role": self.role, "email": self.email,
                "disabled": self.disabled, "locked_until": when(self.locked_until),
                "failed_logins": self.failed_logins, "last_login_at": when(self.last_login_at),
                "created_at": when(self.created_at)}


def _account(u: User) -> Account:
    return Account(u.name, u.role, u.email, u.disabled_at is not None, u.locked_until,
                   u.failed_logins or 0, u.last_login_at, u.created_at)


def find_user(s: Session, name: str) -> User | None:
    return s.scalars(select(User).where(User.name == name)).first()


def get_user(s: Session, name: str) -> User:
    user = find_user(s, name)
    if user is None:
        raise NotFound(f"no user {name!r}; `archive users list` shows them")
    return user


def _event(kind: str, user: User, agent: str | None, field: str | None = None,
           old: str | None = None, new: str | None = None) -> dict[str, Any]:
    return event_row(kind, agent=agent, detail=f"user {user.name}", field=field, old=old,
                     new=new)


def add_user(s: Session, name: str, role: str, password: str, email: str | None = None,
             agent: str | None = None) -> Account:
    name = name.strip()
    problem = name_problem(name) or role_problem(role) or password_problem(password)
    if problem:
        raise AccountError(problem)
    if find_user(s, name) is not None:
        raise AccountError(f"there is already a user {name!r}; `archive users passwd` or "
                           "`archive users role` change theirs")
    user = User(name=name, role=role, email=email or None, password_hash=hash_password(password),
                failed_logins=0, created_at=utcnow())
    s.add(user)
    s.flush()
    record_events(s, [_event(ACCOUNT_CREATED, user, agent, field="role", new=role)])
    log.info("user %s added as %s", name, role)
    return _account(user)


def list_users(s: Session) -> list[Account]:
    return [_account(u) for u in s.scalars(select(User).order_by(User.name))]


def set_disabled(s: Session, name: str, disabled: bool, agent: str | None = None) -> Account:
    """Disable (no sign-in, every session ends) or enable an account; enabling also lifts a
    lock-out and forgets the failed sign-ins."""
    user = get_user(s, name)
    if disabled:
        user.disabled_at = user.disabled_at or utcnow()
    else:
        user.disabled_at = None
        user.failed_logins = 0
        user.locked_until = None
    record_events(s, [_event(ACCOUNT_DISABLED if disabled else ACCOUNT_ENABLED, user, agent)])
    return _account(user)


def set_password(s: Session, name: str, password: str, agent: str | None = None) -> Account:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user = get_user(s, name)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    record_events(s, [_event(PASSWORD_CHANGED, user, agent)])  # never the password itself
    return _account(user)


def set_role(s: Session, name: str, role: str, agent: str | None = None) -> Account:
    problem = role_problem(role)
    if problem:
        raise AccountError(problem)
    user = get_user(s, name)
    if user.role != role:
        record_events(s, [_event(ROLE_CHANGED, user, agent, field="role", old=user.role,
                                 new=role)])
        user.role = role
    return _account(user)


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to. `user_id` only when it succeeded; `delay` is how long to
    wait before answering (a failure's cost grows); `locked_until` when the account is locked."""
    ok: bool
    user_id: int | None = None
    stamp: str = ""
    delay: float = 0.0
    locked_until: dt.datetime | None = None


def sign_in(s: Session, name: str, password: str, now: dt.datetime | None = None,
            unit: float = DELAY_UNIT) -> SignIn:
    """Check a name and password. A locked account is refused without looking at the password;
    a disabled or unknown one is refused like a wrong password (nothing says which names exist).
    Each failure is counted in the catalog, so the delay and lock-out hold across threads,
    processes and restarts. The caller commits."""
    now = now or utcnow()
    user = find_user(s, name.strip()) if len(password) <= MAX_PASSWORD else None
    if user is None or user.disabled_at is not None or not user.password_hash:
        _matches(_dummy_hash(), password[:MAX_PASSWORD])
        return SignIn(False, delay=failure_delay(3, unit))
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(False, delay=failure_delay(user.failed_logins or 0, unit),
                      locked_until=user.locked_until)
    if _matches(user.password_hash, password):
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        return SignIn(True, user.id, password_stamp(user.password_hash))
    # Counted in SQL, so two attempts at once both count.
    s.execute(update(User).where(User.id == user.id)
              .values(failed_logins=User.failed_logins + 1))
    s.refresh(user)
    failures = user.failed_logins or 0
    lock = lockout_for(failures)
    if lock is not None:
        user.locked_until = now + lock
        record_events(s, [event_row(
            ACCOUNT_LOCKED, agent="site",
            detail=f"user {user.name}: {failures} failed sign-ins in a row; locked until "
                   f"{user.locked_until:%Y-%m-%d %H:%M} UTC")])
        log.warning("user %s locked after %d failed sign-ins", user.name, failures)
    return SignIn(False, delay=failure_delay(failures, unit), locked_until=user.locked_until)
