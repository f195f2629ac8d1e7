"""The Flask application: stable, readable URLs over the catalog and the search index.

    /                      search page (the query language; facets narrow the results)
    /search?q=…&type=&scientist=&from=&to=&page=
    /api/search?q=…        the same JSON as `archive search --json`
    /scientists/<name>     a scientist by any name or variant (redirects to the preferred one)
    /items/<accession>     an item: metadata, files, players, transcript (?t=SECONDS starts there)
    /items/<accession>/files/<path>[?as=thumbnail|poster|waveform|access-audio|access-video]
    /exhibits/<slug>       an exhibit, in order, with captions

The views live in web/views/ (one blueprint); this module builds the app around them: the
catalog, the template filters, error pages and response headers.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, render_template

from archive.catalog import Catalog
from archive.durations import clock, length
from archive.errors import ArchiveError, NotFound
from archive.fields import MAIN_ROLES, type_label
from archive.settings import Settings
from web.views import site
from web.views.context import SiteState, close


def create_app(settings: Settings) -> Flask:
    app = Flask(__name__)
    app.config.update(JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=1024)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["archive"] = SiteState(settings, Catalog.open(settings, create=False,
                                                                 read_only=True))
    app.register_blueprint(site)
    app.teardown_appcontext(close)
    # One way to write each thing, shared with the CLI and the exports.
    app.add_template_filter(clock, "clock")  # a moment in a recording
    app.add_template_filter(length, "length")  # how long a recording is
    app.add_template_filter(type_label, "type_label")  # 信件 Letter
    app.jinja_env.globals["MAIN_ROLES"] = MAIN_ROLES

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Any:
        return render_template("404.html"), 404

    @app.errorhandler(404)
    def not_found_404(exc: Exception) -> Any:
        return render_template("404.html"), 404

    @app.errorhandler(ArchiveError)
    def archive_error(exc: ArchiveError) -> Any:
        return render_template("error.html", message=str(exc)), 400

    @app.after_request
    def headers(response: Any) -> Any:
        # Nothing on these pages comes from anywhere but this server.
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self'; media-src 'self'; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
