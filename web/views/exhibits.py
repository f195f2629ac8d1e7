"""Exhibits: the list, and one exhibit's objects the viewer may see, in order with captions."""
from __future__ import annotations

from typing import Any

from flask import render_template

from web import data
from web.views.context import db, site, state, viewer


@site.route("/exhibits/")
def exhibits_page() -> Any:
    return render_template("exhibits.html", exhibits=data.exhibits(db()))


@site.route("/exhibits/<slug>")
def exhibit_page(slug: str) -> Any:
    s = db()
    exhibit, entries = data.visible_exhibit(s, slug, viewer())
    pics = data.pictures(s, [e.item.accession for e in entries], state().settings.derivatives_dir,
                         viewer())
    return render_template("exhibit.html", exhibit=exhibit, entries=entries, pictures=pics)
