"""IIIF on the site: Presentation 3 manifests of every public item and of each exhibit (at the id
they declare), and the Image API 3.0 (level 1 and more) over page scans, with tiles cached under
the derivatives folder. Only public items answer, exactly as their pages do; these responses,
and only these, carry `Access-Control-Allow-Origin: *`, which IIIF viewers need.

    /items/<accession>/manifest.json
    /items/<accession>/search?q=…    IIIF Content Search 2.0 over the item's machine-read lines
    /exhibits/<slug>/manifest.json
    /iiif/<id>/info.json
    /iiif/<id>/<region>/<size>/<rotation>/<quality>.<format>
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, current_app, redirect, request, url_for
from sqlalchemy.orm import Session

from archive.accession import normalise_accession
from archive.derivatives import page_image_path
from archive.errors import ImageRequestError, NotFound
from archive.exhibit_export.iiif import build_manifest as exhibit_manifest
from archive.exhibit_export.rows import ObjectRow, build_export, object_row
from archive.fields import MAIN_ROLES
from archive.errors import QueryError
from archive.models import File, FileText, Item
from archive.page_text import read_pages
from archive.standards import iiif_image
from archive.standards.iiif import ID_DIGITS, Picture, SiteFiles, Transcript, build_manifest
from archive.standards.iiif import SEARCH_PAGE_SIZE, image_id, search_answer, service_url
from archive.standards.iiif_render import displayed_size, render
from web import data
from web.audit import audited_item
from web.views.context import db, site, state, viewer

CORS = {"Access-Control-Allow-Origin": "*"}
PRESENTATION = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
_IMAGE_ID = re.compile(rf"(?P<accession>.+)~(?P<sha>[0-9a-f]{{{ID_DIGITS}}})"
                       r"(?:~p(?P<page>\d+)|~f(?P<frame>[2-9]|[1-9]\d+))?")


def _base() -> str:
    return request.url_root.rstrip("/")


def _json(body: Any, mimetype: str = "application/json", status: int = 200) -> Response:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=1)
    return Response(text, status=status, mimetype=mimetype, headers=CORS)


def _manifest_response(manifest: Any) -> Response:
    return _json(manifest.json(indent=1, ensure_ascii=False), PRESENTATION)


# -- what the site holds for an item -----------------------------------------------------------

def _image(f: File) -> bool:
    return (f.mime or "").startswith("image/") and bool(f.sha256) and f.role in MAIN_ROLES


def site_files(s: Session, item: Item, derivatives: Path) -> tuple[SiteFiles, set[str]]:
    """What the site serves for an item beyond its row, and the paths it cannot serve now
    (missing files, which a manifest must not point at)."""
    missing = {f.path for f in item.files if data.is_missing(s, f)}
    images: dict[str, Picture] = {}
    pdf_pages: dict[str, dict[int, Picture]] = {}
    frames: dict[str, dict[int, Picture]] = {}
    access: dict[str, str] = {}
    thumbnails: set[str] = set()
    transcripts: list[Transcript] = []
    for f in item.files:
        if f.path in missing:
            continue
        have = data.available_derivatives(derivatives, f)
        if "thumbnail" in have:
            thumbnails.add(f.path)
        for kind in ("access-audio", "access-video"):
            if kind in have:
                access[f.path] = kind
        tech = f.tech or {}
        if _image(f) and f.width and f.height:
            images[f.path] = Picture(image_id(item.accession, f.sha256 or ""),
                                     tech.get("display_width") or f.width,
                                     tech.get("display_height") or f.height)
            if (f.pages or 1) > 1:
                shown = _frames(data.file_on_disk(s, f), item.accession, f.sha256 or "",
                                f.pages or 1)
                if shown:
                    frames[f.path] = shown
        if f.mime == "application/pdf" and f.sha256 and f.pages:
            pages: dict[int, Picture] = {}
            for n in range(1, f.pages + 1):
                p = page_image_path(derivatives, f.sha256, n)
                if p.is_file():
                    try:
                        pages[n] = Picture(image_id(item.accession, f.sha256, n),
                                           *displayed_size(str(p)))
                    except NotFound:  # a page image that cannot be read is not offered
                        continue
            if pages:
                pdf_pages[f.path] = pages
        if f.role == "transcript":
            text = s.get(FileText, f.id)
            if text is not None and text.cues:
                transcripts.append(Transcript(f.path, tuple((float(a), float(b), str(t))
                                                            for a, b, t in text.cues)))
    texts = {(p.page.path, p.page.file_page): p for p in read_pages(s, viewer(), item)
             if p.page.path not in missing}
    return SiteFiles(images, pdf_pages, access, frozenset(thumbnails),
                     tuple(transcripts), texts, frames), missing


def _frames(disk: str, accession: str, sha256: str, count: int) -> dict[int, Picture]:
    """The frames of a multi-page TIFF as pages the Image API serves, with each frame's own
    size (read from its header); from the first that cannot be read on, none."""
    out: dict[int, Picture] = {}
    for n in range(1, count + 1):
        try:
            out[n] = Picture(image_id(accession, sha256, frame=n), *displayed_size(disk, n))
        except NotFound:
            break
    return out


def _served_row(row: ObjectRow, missing: set[str]) -> ObjectRow:
    return dataclasses.replace(row, files=[f for f in row.files if f.path not in missing])


# -- manifests ---------------------------------------------------------------------------------

@site.route("/items/<accession>/manifest.json")
def item_manifest(accession: str) -> Any:
    canonical = normalise_accession(accession)
    if canonical and canonical != accession:
        return redirect(url_for("site.item_manifest", accession=canonical), 301)
    s = db()
    item = audited_item(s, accession, "manifest")
    derivatives = state().settings.derivatives_dir
    files, missing = site_files(s, item, derivatives)
    row = _served_row(object_row(item, derivatives), missing)
    search = url_for("site.item_search", accession=item.accession, _external=True) \
        if files.texts else None
    manifest = build_manifest(url_for("site.item_manifest", accession=item.accession,
                                      _external=True),
                              item.title, item.description, [(row, files)], _base(),
                              ranges=False, search=search)
    return _manifest_response(manifest)


@site.route("/items/<accession>/search")
def item_search(accession: str) -> Any:
    """IIIF Content Search 2.0: the item's machine-read lines holding the words of `q`, as
    annotations on their canvas's box (`q` in the site's query language; its words are
    found as on the item page). `date` and `user` are not implemented, and said so."""
    from search.query import parse_query
    from search.snippets import match_patterns
    canonical = normalise_accession(accession)
    if canonical and canonical != accession:
        args: dict[str, Any] = dict(request.args.items())
        return redirect(url_for("site.item_search", accession=canonical, **args), 301)
    s = db()
    item = audited_item(s, accession, "snippet")  # its lines are text from it
    derivatives = state().settings.derivatives_dir
    files, missing = site_files(s, item, derivatives)
    row = _served_row(object_row(item, derivatives), missing)
    try:
        patterns = match_patterns(parse_query(request.args.get("q", "")))
    except QueryError:
        patterns = []  # nothing a search could find: an empty answer, as for no query
    page = request.args.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        return Response(f"page must be a whole number from 1, not {page!r}\n", status=400,
                        mimetype="text/plain", headers=CORS)
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("q", "motivation")}
    answer_id = url_for("site.item_search", accession=item.accession, _external=True,
                        **kept)

    def page_url(n: int) -> str:
        return url_for("site.item_search", accession=item.accession, _external=True, **kept,
                       page=n)
    answer = search_answer(answer_id, url_for("site.item_manifest",
                                              accession=item.accession, _external=True),
                           row, files, _base(), patterns,
                           request.args.get("motivation", "").split(),
                           [k for k in ("date", "user") if request.args.get(k)],
                           int(page), page_url,
                           current_app.config.get("SEARCH_PAGE_SIZE", SEARCH_PAGE_SIZE))
    return _json(answer, PRESENTATION)


@site.route("/exhibits/<slug>/manifest.json")
def exhibit_manifest_json(slug: str) -> Any:
    s = db()
    derivatives = state().settings.derivatives_dir
    export = build_export(s, slug, derivatives, viewer=viewer())
    items = {a: audited_item(s, a, "manifest") for a in [r.accession for r in export.rows]}
    held: dict[str, SiteFiles] = {}
    rows = []
    for row in export.rows:
        files, missing = site_files(s, items[row.accession], derivatives)
        held[row.accession] = files
        rows.append(_served_row(row, missing))
    export = dataclasses.replace(export, rows=rows)
    return _manifest_response(exhibit_manifest(export, _base(), held))


# -- the Image API -----------------------------------------------------------------------------

def _source(identifier: str) -> tuple[str, str, int]:
    """The image on disk an id names, the checksum naming its cache, and the frame of a
    multi-page TIFF (1 for any other): only a main image file (or a PDF's page image, or a
    frame) of a public item, present where it was catalogued."""
    m = _IMAGE_ID.fullmatch(identifier)
    if m is None:
        raise NotFound(identifier)
    s = db()
    item = audited_item(s, m["accession"], "image")
    page = int(m["page"]) if m["page"] else None
    frame = int(m["frame"]) if m["frame"] else 1
    for f in item.files:
        if not (f.sha256 or "").startswith(m["sha"]) or f.role not in MAIN_ROLES:
            continue
        if page is None and _image(f) and frame <= (f.pages or 1) \
                and not data.is_missing(s, f):
            return data.file_on_disk(s, f), (f.sha256 or "") + \
                (f"-f{frame}" if frame > 1 else ""), frame
        if page is not None and f.mime == "application/pdf" and not data.is_missing(s, f):
            p = page_image_path(state().settings.derivatives_dir, f.sha256 or "", page)
            if p.is_file():
                return str(p), f"{f.sha256}-p{page}", 1
    raise NotFound(identifier)


def _refusal(exc: ImageRequestError) -> Response:
    return Response(f"{exc}\n", status=400, mimetype="text/plain", headers=CORS)


@site.route("/iiif/<identifier>")
def image_base(identifier: str) -> Any:
    _source(identifier)
    return redirect(url_for("site.image_info", identifier=identifier), 303,
                    Response=Response)


@site.route("/iiif/<identifier>/info.json")
def image_info(identifier: str) -> Any:
    path, _, frame = _source(identifier)
    width, height = displayed_size(path, frame)
    return _json(iiif_image.info(service_url(_base(), identifier), width, height))


@site.route("/iiif/<identifier>/<region>/<size>/<rotation>/<quality>")
def image_request(identifier: str, region: str, size: str, rotation: str,
                  quality: str) -> Any:
    path, key, frame = _source(identifier)
    width, height = displayed_size(path, frame)
    try:
        plan = iiif_image.plan(region, size, rotation, quality, width, height)
    except ImageRequestError as exc:
        return _refusal(exc)
    cached = state().settings.derivatives_dir / "iiif" / key[:2] / plan.cache_name(key)
    if cached.is_file():
        body = cached.read_bytes()
    else:
        body = render(path, plan.region, plan.size, plan.rotation, plan.quality == "gray",
                      plan.format, frame)
        _keep(cached, body)
    response = Response(body, mimetype=iiif_image.FORMATS[plan.format], headers=CORS)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _keep(path: Path, body: bytes) -> None:
    """Write a rendered image to the cache atomically; a cache that cannot be written (a
    read-only derivatives folder) only costs the next request a render."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
