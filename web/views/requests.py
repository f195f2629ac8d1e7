"""Access requests on the site (archive/access_requests.py):

    /items/<accession>/request   a signed-in researcher asks for a restricted item, with a reason
    /staff/requests              staff's queue: approve (for N days, with a note) or deny
    /account                     shows the signed-in person's own requests and grants

Every form carries the session's CSRF token (web/auth.py refuses a POST without it). A request
is only ever shown to the person who made it and to staff: there is no page of one request."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from archive.access import can_see, sealing_note
from archive.access_requests import (
    DEFAULT_DAYS, MAX_DAYS, RequestLine, approve, deny, item_for_request, list_requests,
    submit_request, user_named,
)
from archive.accession import normalise_accession
from archive.errors import UsageError
from web.views.context import accounts, db, site, viewer

DECIDERS = ("staff", "admin")


def _sign_in_first() -> Any | None:
    if viewer().signed_in:
        return None
    return redirect(url_for("site.login", next=request.full_path.rstrip("?")))


@site.app_template_global()
def my_requests() -> list[RequestLine]:
    """The signed-in person's own requests and grants, newest first (/account)."""
    if not viewer().signed_in:
        return []
    return list_requests(db(), user=viewer().name)


@site.route("/items/<accession>/request", methods=["GET", "POST"])
def request_item(accession: str) -> Any:
    if (away := _sign_in_first()) is not None:
        return away
    canonical = normalise_accession(accession)
    if canonical != accession:
        return redirect(url_for("site.request_item", accession=canonical), 301)
    item = item_for_request(db(), accession)
    if item is None:
        abort(404)  # open, closed, withdrawn or no such item: nothing to ask for here
    if can_see(viewer(), item):  # staff, or a grant in force
        return redirect(url_for("site.item_page", accession=item.accession))
    if request.method == "GET":
        return render_template("request.html", accession=item.accession)
    reason = request.form.get("reason", "")
    try:
        with accounts() as w:
            submit_request(w, user_named(w, viewer().name or ""), item.accession, reason)
    except UsageError as exc:
        return render_template("request.html", accession=item.accession, reason=reason,
                               error=str(exc)), 400
    flash(f"已提交 Your request for {item.accession} is with staff.")
    return redirect(url_for("site.account_page") + "#requests")


def _decider() -> Any | None:
    """Sign-in first; a signed-in person who does not decide requests is refused."""
    if (away := _sign_in_first()) is not None:
        return away
    if viewer().role not in DECIDERS:
        abort(403)
    return None


@site.route("/staff/requests")
def staff_requests() -> Any:
    if (away := _decider()) is not None:
        return away
    return _queue()


def _queue(error: str | None = None) -> Any:
    """The queue page. A request's item may have been closed since: its title is then shown
    only to those who may see closed items."""
    lines = [x if x.access in viewer().levels else replace(x, title="")
             for x in list_requests(db())]
    return render_template("staff_requests.html", error=error,
                           pending=[x for x in lines if x.state == "pending"],
                           decided=[x for x in lines if x.state != "pending"][:100],
                           default_days=DEFAULT_DAYS, max_days=MAX_DAYS), 400 if error else 200


@site.route("/staff/requests/<int:request_id>", methods=["POST"])
def decide_request(request_id: int) -> Any:
    if (away := _decider()) is not None:
        return away
    decision = request.form.get("decision")
    note = request.form.get("note") or None
    agent = viewer().name or ""
    try:
        with accounts() as w:
            if decision == "approve":
                days = (request.form.get("days") or "").strip() or str(DEFAULT_DAYS)
                if not days.isdigit():
                    raise UsageError(f"days is a whole number from 1 to {MAX_DAYS}")
                approve(w, request_id, agent, int(days), note)
            elif decision == "deny":
                deny(w, request_id, agent, note)
            else:
                raise UsageError("choose approve or deny")
    except UsageError as exc:
        return _queue(str(exc))
    flash(f"#{request_id}: {'批准 approved' if decision == 'approve' else '拒绝 denied'}")
    return redirect(url_for("site.staff_requests"))



# The item page says when a sealed item opens ("sealed until 2051-01-01").
site.add_app_template_global(sealing_note, "sealing_note")
