"""Signing in and out, and the signed-in person's own page:

    /login     GET the form (`?next=` a path on this site to return to), POST to sign in
    /logout    POST: sign out
    /account   name, role, what the role sees; POST /account/password changes the password

Every form carries the session's CSRF token (web/auth.py refuses a POST without it). A failed
sign-in is answered after a delay that grows with the failures in a row, and the tenth locks
the account for a while (archive/accounts.py)."""
from __future__ import annotations

import time
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from archive.accounts import (
    DELAY_UNIT, get_user, password_problem, password_stamp, set_password, sign_in,
)
from web import auth
from web.views.context import accounts, site, state, viewer


def _unit() -> float:
    return float(current_app.config.get("LOGIN_DELAY_UNIT", DELAY_UNIT))


def _wait(seconds: float) -> None:
    # Slows down guessing: a failed attempt's answer comes later each time (the count is in
    # the catalog, so it holds across threads and server processes).
    if seconds > 0:
        time.sleep(seconds)


@site.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = auth.safe_next(request.values.get("next"))
    if not state().accounts_enabled:
        return render_template("login.html", unavailable=True, next=target), 503
    if request.method == "GET":
        if viewer().signed_in:
            return redirect(target)
        return render_template("login.html", next=target)
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    with accounts() as s:
        outcome = sign_in(s, name, password, unit=_unit())
    _wait(outcome.delay)
    if outcome.ok and outcome.user_id is not None:
        auth.begin(outcome.user_id, outcome.stamp)
        return redirect(target)
    if outcome.locked_until is not None:
        error, status = (f"登录失败次数过多 Too many failed sign-ins: this account is locked "
                         f"until {outcome.locked_until:%Y-%m-%d %H:%M} UTC, or until an "
                         "administrator enables it."), 429
    else:
        error, status = "用户名或密码不正确 The name or password is not right.", 401
    return render_template("login.html", next=target, error=error, name=name), status


@site.route("/logout", methods=["POST"])
def logout() -> Any:
    auth.end()
    return redirect(url_for("site.search_page"))


def _signed_in() -> Any | None:
    """A redirect to the sign-in page for someone not signed in, coming back here after."""
    if viewer().signed_in:
        return None
    return redirect(url_for("site.login", next=request.full_path.rstrip("?")))


@site.route("/account")
def account_page() -> Any:
    if (away := _signed_in()) is not None:
        return away
    return render_template("account.html", me=viewer())


@site.route("/account/password", methods=["POST"])
def change_password() -> Any:
    if (away := _signed_in()) is not None:
        return away
    me = viewer()
    assert me.name is not None
    current = request.form.get("current", "")
    new, again = request.form.get("new", ""), request.form.get("again", "")
    problem = password_problem(new) or (None if new == again else
                                        "两次输入的新密码不一致 The new passwords differ.")
    if problem:
        return render_template("account.html", me=me, error=problem), 400
    with accounts() as s:
        outcome = sign_in(s, me.name, current, unit=_unit())
        if outcome.ok:
            set_password(s, me.name, new, agent=me.name)
            stamp = password_stamp(get_user(s, me.name).password_hash)
    _wait(outcome.delay)
    if not outcome.ok:
        status = 429 if outcome.locked_until is not None else 400
        return render_template("account.html", me=me, error=(
            "当前密码不正确 The current password is not right.")), status
    auth.restamp(stamp)
    flash("密码已更改 Password changed; your other sessions have ended.")
    return redirect(url_for("site.account_page"))
