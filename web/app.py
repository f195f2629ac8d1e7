"""The Flask application: stable, readable URLs over the catalog and the search index.

    /                      search page (the query language; facets narrow the results)
    /search?q=…&type=&scientist=&from=&to=&page=
    /api/search?q=…        the same JSON as `archive search --json`
    /scientists/<name>     a scientist by any name or variant (redirects to the preferred one)
    /items/<accession>     an item: metadata, files, players, transcript (?t=SECONDS starts there)
    /items/<accession>/files/<path>[?as=thumbnail|poster|waveform|access-audio|access-video]
    /exhibits/<slug>       an exhibit, in order, with captions
"""
from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, render_template, request, send_file, url_for

from archive.catalog import Catalog
from archive.derivatives import SUFFIXES
from archive.durations import clock
from archive.errors import ArchiveError, IndexProblem, NotFound, QueryError
from archive.settings import Settings
from search.facets import FACETS
from search.searcher import SearchOptions, SearchService
from web import data

PAGE_SIZE = 20


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise QueryError(f"{value!r} is not a year") from None


def options_from(args: Any, limit: int, offset: int, facets: bool) -> SearchOptions:
    """The query string's search: the same parameters for the page and the API."""
    return SearchOptions(query=args.get("q", "")[:2000], scientist=args.get("scientist") or None,
                         type=args.get("type") or None, year_from=_int(args.get("from")),
                         year_to=_int(args.get("to")), limit=limit, offset=offset,
                         facets=facets)


def create_app(settings: Settings) -> Flask:
    app = Flask(__name__)
    app.config.update(JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=1024)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    catalog = Catalog.open(settings, create=False)
    local = threading.local()  # a Whoosh searcher per server thread

    def searcher() -> SearchService:
        if not hasattr(local, "service"):
            local.service = SearchService(catalog)
        return local.service

    def search_options() -> SearchOptions:
        page = max(1, _int(request.args.get("page")) or 1)
        return options_from(request.args, PAGE_SIZE, (page - 1) * PAGE_SIZE, facets=True)

    @app.template_global()
    def narrowed(**changes: Any) -> str:
        """The current search's URL with some parameters changed (facets, paging)."""
        args = {k: v for k, v in request.args.items() if v}
        args.pop("page", None)
        for k, v in changes.items():
            if v is None:
                args.pop(k, None)
            else:
                args[k] = v
        return url_for("search_page") + ("?" + urlencode(args) if args else "")

    app.add_template_filter(clock, "clock")

    @app.route("/")
    @app.route("/search")
    def search_page():  # type: ignore[no-untyped-def]
        error, result, status = None, None, 200
        try:
            options = search_options()
            result = searcher().search(options)
        except QueryError as exc:
            error, status = str(exc), 400
            options = SearchOptions(query=request.args.get("q", "")[:2000])
        except IndexProblem as exc:
            error, status = str(exc), 503
            options = SearchOptions(query=request.args.get("q", "")[:2000])
        pages = (result.total + PAGE_SIZE - 1) // PAGE_SIZE if result else 0
        pics: dict[str, tuple[str, str]] = {}
        if result and result.hits:
            with catalog.session() as s:
                pics = data.pictures(s, [h["accession"] for h in result.hits],
                                     settings.derivatives_dir)
        return render_template("search.html", result=result, error=error, options=options,
                               pictures=pics,
                               page=options.offset // PAGE_SIZE + 1, pages=pages,
                               facet_names=FACETS, args=request.args), status

    @app.route("/api/search")
    def api_search():  # type: ignore[no-untyped-def]
        args = request.args
        try:
            options = options_from(args, min(_int(args.get("limit")) or 20, 1000),
                                   _int(args.get("offset")) or 0,
                                   facets=args.get("facets") in ("1", "true"))
            return jsonify(searcher().search(options).to_json())
        except QueryError as exc:
            return jsonify({"error": str(exc)}), 400
        except IndexProblem as exc:
            return jsonify({"error": str(exc)}), 503

    @app.route("/scientists/")
    def scientists_page():  # type: ignore[no-untyped-def]
        with catalog.session() as s:
            return render_template("scientists.html", scientists=data.scientists(s))

    @app.route("/scientists/<name>")
    def scientist_page(name: str):  # type: ignore[no-untyped-def]
        with catalog.session() as s:
            sci = data.find_scientist(s, name)
            if sci.name != name:
                return redirect(url_for("scientist_page", name=sci.name), 301)
            return render_template("scientist.html", sci=sci,
                                   holdings=data.scientist_holdings(s, sci),
                                   items=data.recent_items(s, sci))

    @app.route("/items/<accession>")
    def item_page(accession: str):  # type: ignore[no-untyped-def]
        with catalog.session() as s:
            item = data.public_item(s, accession)
            files = data.item_files(s, item, settings.derivatives_dir)
            start = request.args.get("t", type=float)
            return render_template("item.html", item=item, files=files, start=start)

    @app.route("/items/<accession>/files/<path:path>")
    def item_file(accession: str, path: str):  # type: ignore[no-untyped-def]
        with catalog.session() as s:
            item = data.public_item(s, accession)
            f = data.item_file(s, item, path)
            kind = request.args.get("as")
            if kind:
                if kind not in SUFFIXES:
                    abort(404)
                disk = data.derivative_on_disk(settings.derivatives_dir, f, kind)
                mime = None
            else:
                disk = data.file_on_disk(s, f)
                mime = f.mime
        return send_file(disk, mimetype=mime, conditional=True, max_age=3600)

    @app.route("/exhibits/")
    def exhibits_page():  # type: ignore[no-untyped-def]
        with catalog.session() as s:
            return render_template("exhibits.html", exhibits=data.exhibits(s))

    @app.route("/exhibits/<slug>")
    def exhibit_page(slug: str):  # type: ignore[no-untyped-def]
        with catalog.session() as s:
            exhibit, entries = data.public_exhibit(s, slug)
            pics = data.pictures(s, [e.item.accession for e in entries],
                                 settings.derivatives_dir)
            return render_template("exhibit.html", exhibit=exhibit, entries=entries,
                                   pictures=pics)

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound):  # type: ignore[no-untyped-def]
        return render_template("404.html"), 404

    @app.errorhandler(404)
    def not_found_404(exc: Exception):  # type: ignore[no-untyped-def]
        return render_template("404.html"), 404

    @app.errorhandler(ArchiveError)
    def archive_error(exc: ArchiveError):  # type: ignore[no-untyped-def]
        return render_template("error.html", message=str(exc)), 400

    @app.after_request
    def headers(response):  # type: ignore[no-untyped-def]
        # Nothing on these pages comes from anywhere but this server.
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self'; media-src 'self'; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
