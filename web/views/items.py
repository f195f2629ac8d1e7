"""An item's page and its files. Accession numbers in URLs are found however they are typed
and redirected to their catalogued form, so every item has one address."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, send_file, url_for

from archive.accession import normalise_accession
from archive.derivatives import SUFFIXES
from web import data
from web.audit import audited_item
from web.views.context import db, site, state


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
    item = audited_item(db(), accession, "page")
    files = data.item_files(db(), item, state().settings.derivatives_dir)
    start = request.args.get("t", type=float)
    return render_template("item.html", item=item, files=files, start=start)


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
