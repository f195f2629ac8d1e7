"""The search page and /api/search: the same parameters (web/params.py), the same service, for
the request's viewer (totals, facets and snippets of what they may see)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from flask import jsonify, render_template, request, url_for

from archive.errors import IndexProblem, QueryError
from archive.fields import FACETS
from search.query import MAX_QUERY_CHARS
from search.searcher import SearchOptions, SearchResult
from web import data
from web.audit import audit_hits
from web.params import api_options, page_options
from web.views.context import db, searcher, site, state, viewer

PAGE_SIZE = 20


@site.app_template_global()
def narrowed(**changes: Any) -> str:
    """The current search's URL with some parameters changed (facets, paging)."""
    args = {k: v for k, v in request.args.items() if v}
    args.pop("page", None)
    for k, v in changes.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = v
    return url_for("site.search_page") + ("?" + urlencode(args) if args else "")


@site.route("/")
@site.route("/search")
def search_page() -> Any:
    error, result, status = None, None, 200
    options = SearchOptions(query=request.args.get("q", "")[:MAX_QUERY_CHARS])
    try:
        options = replace(page_options(request.args, PAGE_SIZE), viewer=viewer())
        result = searcher().search(options)
        audit_hits(result.hits)
    except QueryError as exc:
        error, status = str(exc), 400
    except IndexProblem as exc:
        error, status = str(exc), 503
    return render_template("search.html", result=result, error=error, options=options,
                           pictures=_pictures(result),
                           page=options.offset // PAGE_SIZE + 1,
                           pages=(result.total + PAGE_SIZE - 1) // PAGE_SIZE if result else 0,
                           facet_names=FACETS, args=request.args), status


def _pictures(result: SearchResult | None) -> dict[str, tuple[str, str]]:
    if not result or not result.hits:
        return {}
    return data.pictures(db(), [h["accession"] for h in result.hits],
                         state().settings.derivatives_dir, viewer())


@site.route("/api/search")
def api_search() -> Any:
    try:
        options = replace(api_options(request.args), viewer=viewer())
        result = searcher().search(options)
        audit_hits(result.hits)
        return jsonify(result.to_json())
    except QueryError as exc:
        return jsonify({"error": str(exc)}), 400
    except IndexProblem as exc:
        return jsonify({"error": str(exc)}), 503
