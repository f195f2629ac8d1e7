"""Scientists: the list, and one scientist by any of their names."""
from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for

from web import data
from web.views.context import db, site, viewer


@site.route("/scientists/")
def scientists_page() -> Any:
    return render_template("scientists.html", scientists=data.scientists(db(), viewer()))


@site.route("/scientists/<name>")
def scientist_page(name: str) -> Any:
    s = db()
    sci = data.find_scientist(s, name)
    if sci.name != name:
        return redirect(url_for("site.scientist_page", name=sci.name), 301)
    who = viewer()
    return render_template("scientist.html", sci=sci, holdings=data.scientist_holdings(s, sci, who),
                           items=data.recent_items(s, sci, who))
