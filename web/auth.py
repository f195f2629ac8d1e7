"""Who is asking: the site's sessions (signed, expiring cookies), the viewer of each request
(`g.viewer`, what archive/access.py decides by), CSRF tokens on forms that change anything, and
where a `next=` may send someone after signing in.

    safe_next("/items/QXS-L-00001?t=5")  -> "/items/QXS-L-00001?t=5"
    safe_next("//evil.example")          -> "/"   (another host, however it is spelled:)
    safe_next("https://evil.example/")   -> "/"
    safe_next("/\\\\evil.example")          -> "/"   (browsers read a backslash as a slash)
    safe_next("javascript:alert(1)")     -> "/"
    safe_next(None)                      -> "/"

The cookie holds a random session id, a CSRF token and, once signed in, the user's id, a digest
of their password hash and the time they signed in; Flask signs it with the site's key and
refuses it after `session_hours`. Signing in clears it and draws a new id and token, so a
session id planted before sign-in is worth nothing after it. The account is read from the
catalog on every request, so a disabled account, a changed role or password, or an expired
grant takes effect at once.
"""
from __future__ import annotations

import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, render_template, request, session
from flask.sessions import SecureCookieSessionInterface

from archive.access import ANONYMOUS, Viewer, viewer_for
from archive.accounts import password_stamp
from archive.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Forms that change nothing of anyone's: OAI-PMH lets harvesters POST its read-only verbs.
CSRF_EXEMPT = frozenset({"site.oai"})
CSRF_FIELD = "csrf_token"


def safe_next(target: str | None) -> str:
    """A path on this site to go to after signing in; "/" for anything else."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 or c == "\x7f" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


class SiteSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def configure(app: Flask, secret: str, hours: float) -> None:
    app.secret_key = secret
    app.session_interface = SiteSessions()
    app.config.update(SESSION_COOKIE_NAME="archive_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=hours * 3600,
                      # The cookie is re-signed only when it changes: a session ends
                      # `session_hours` after sign-in, however busy.
                      SESSION_REFRESH_EACH_REQUEST=False)


def csrf_token() -> str:
    """This session's CSRF token, made when a form first needs one."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
        session.setdefault("sid", secrets.token_urlsafe(16))
    return str(token)


def csrf_refused() -> Any | None:
    """The refusal of a request that changes something without this session's token."""
    if request.method in SAFE_METHODS or request.endpoint in CSRF_EXEMPT:
        return None
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if expected and hmac.compare_digest(str(sent), str(expected)):
        return None
    return render_template("error.html", message=(
        "这个表单已过期 This form has expired or did not come from this site: reload the page "
        "and try again.")), 400


def begin(user_id: int, stamp: str) -> None:
    """Signed in: a fresh session (new id, new CSRF token) for this user."""
    session.clear()
    session.update(sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32), uid=user_id,
                   stamp=stamp, at=int(time.time()))
    session.permanent = True


def end() -> None:
    session.clear()


def restamp(stamp: str) -> None:
    """After this user changed their password: this session goes on, their others end."""
    session["stamp"] = stamp


def load_viewer(db: Any, lifetime_seconds: float) -> Viewer:
    """The viewer of this request: ANONYMOUS unless the session names an enabled account whose
    password is unchanged since sign-in and the sign-in is younger than the lifetime."""
    uid = session.get("uid")
    if uid is None:
        return ANONYMOUS
    at = session.get("at")
    if not isinstance(at, int) or time.time() - at > lifetime_seconds:
        end()
        return ANONYMOUS
    user = db.get(User, uid)
    if user is None or user.disabled_at is not None or \
            not hmac.compare_digest(password_stamp(user.password_hash),
                                    str(session.get("stamp", ""))):
        end()
        return ANONYMOUS
    return viewer_for(db, user)


def private(response: Response) -> Response:
    """A signed-in viewer's pages and files may hold restricted material: no shared cache
    (a proxy, a CDN) may keep them for the next person."""
    if g.get("viewer", ANONYMOUS).signed_in:
        response.headers["Cache-Control"] = "private, no-store"
    return response
