"""An item's page and its files. Accession numbers in URLs are found however they are typed
and redirected to their catalogued form, so every item has one address. `?q=` opens the page
of the item a query was found on (its lines outlined), `?page=N` picks a page (web/page_view.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, redirect, render_template, request, send_file, url_for
from sqlalchemy.orm import Session

from archive.accession import normalise_accession
from archive.derivatives import SUFFIXES
from archive.errors import QueryError
from archive.models import Item
from archive.page_text import item_pages
from search.query import MAX_QUERY_CHARS, parse_query
from search.snippets import match_patterns
from web import data
from web.audit import audited_item
from web.page_view import Pages, page_views
from web.views.context import db, site, state
from web.views.iiif import site_files


def _canonical(endpoint: str, accession: str, **values: Any) -> Any:
    """A redirect to the catalogued form of the number (qxs-l-00001 -> QXS-L-00001), keeping
    the query string (?t=, ?as=); None when the URL already uses it."""
    canonical = normalise_accession(accession)
    if canonical == accession or not canonical:
        return None
    return redirect(url_for(endpoint, **{**request.args, **values, "accession": canonical}), 301)


@site.route("/items/<accession>")
def item_page(accession: str) -> Any:
    if (moved := _canonical("site.item_page", accession)) is not None:
        return moved
    s = db()
    item = audited_item(s, accession, "page")
    derivatives = state().settings.derivatives_dir
    files = data.item_files(s, item, derivatives)
    start = request.args.get("t", type=float)
    q = request.args.get("q", "")[:MAX_QUERY_CHARS]
    pages = _pages(s, item, derivatives, q, request.args.get("page", type=int))
    return render_template("item.html", item=item, files=files, start=start, q=q, pages=pages)


def _pages(s: Session, item: Item, derivatives: Path, q: str, requested: int | None) -> Pages:
    """The page viewer: the item's pages the site can show, `q`'s page opened and outlined."""
    held, missing = site_files(s, item, derivatives)
    refs = [r for r in item_pages(item.files) if r.path not in missing]
    try:
        patterns = match_patterns(parse_query(q)) if q else []
    except QueryError:
        patterns = []  # a query the search would refuse outlines nothing; the page still shows
    return page_views(item.accession, refs, list(held.texts.values()), held,
                      {f.path: f.sha256 or "" for f in item.files}, patterns, requested)


@site.route("/items/<accession>/files/<path:path>")
def item_file(accession: str, path: str) -> Any:
    if (moved := _canonical("site.item_file", accession, path=path)) is not None:
        return moved
    s = db()
    f = data.item_file(s, audited_item(s, accession, "derivative" if request.args.get("as")
                                       else "file"), path)
    kind = request.args.get("as")
    if kind:
        if kind not in SUFFIXES:
            abort(404)
        disk, mime = data.derivative_on_disk(state().settings.derivatives_dir, f, kind), None
    else:
        if data.is_missing(s, f):  # a clear page, never a broken file (#11.2)
            return render_template("missing.html", accession=f.item.accession, path=f.path,
                                   since=f.status_since if f.status == "missing" else None), 404
        disk, mime = data.file_on_disk(s, f), f.mime
    return send_file(disk, mimetype=mime, conditional=True, max_age=3600)
