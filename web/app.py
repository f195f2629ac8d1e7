"""The Flask application: stable, readable URLs over the catalog and the search index.

    /                      search page (the query language; facets narrow the results)
    /search?q=…&type=&scientist=&from=&to=&page=
    /api/search?q=…        the same JSON as `archive search --json`
    /scientists/<name>     a scientist by any name or variant (redirects to the preferred one)
    /items/<accession>     an item: metadata, files, players, transcript (?t=SECONDS starts there),
                           its pages with their machine-read text (?q=WORDS opens and outlines
                           the page they were read on, &page=N picks a page)
    /items/<accession>/manifest.json, /items/<accession>/search?q=   IIIF (web/views/iiif.py)
    /items/<accession>/files/<path>[?as=thumbnail|poster|waveform|access-audio|access-video]
    /exhibits/<slug>       an exhibit, in order, with captions
    /login, /logout, /account   signing in (web/auth.py: sessions, CSRF, who is asking)

The views live in web/views/ (one blueprint); this module builds the app around them: the
catalog, who is asking, the template filters, error pages and response headers. Every view
shows what the request's viewer may see (archive/access.py), nothing else.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template

from archive.catalog import Catalog
from archive.durations import clock, length
from archive.errors import ArchiveError, NotFound
from archive.fields import MAIN_ROLES, field_label, type_label
from archive.settings import Settings
from web import auth
from web.secret import site_secret
from web.views import site
from web.views.context import SiteState, close, db, state, viewer


def create_app(settings: Settings) -> Flask:
    app = Flask(__name__)
    app.config.update(JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=8192)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    site_state = SiteState(settings, Catalog.open(settings, create=False, read_only=True))
    app.extensions["archive"] = site_state
    if site_state.accounts_enabled:
        # A published copy has no accounts to sign in to, and needs no key (nor a file for it).
        auth.configure(app, site_secret(settings), settings.session_hours)
    app.register_blueprint(site)
    app.teardown_appcontext(close)
    # One way to write each thing, shared with the CLI and the exports.
    app.add_template_filter(clock, "clock")  # a moment in a recording
    app.add_template_filter(length, "length")  # how long a recording is
    app.add_template_filter(type_label, "type_label")  # 信件 Letter
    app.add_template_filter(field_label, "label")  # 'date'|label: 日期 Date (archive/fields.py)
    app.jinja_env.globals["MAIN_ROLES"] = MAIN_ROLES
    app.jinja_env.globals["csrf_token"] = auth.csrf_token
    app.jinja_env.globals["viewer"] = viewer
    lifetime = settings.session_hours * 3600

    @app.before_request
    def who_is_asking() -> Any:
        g.viewer = auth.load_viewer(db(), lifetime) if state().accounts_enabled \
            else auth.ANONYMOUS
        return auth.csrf_refused()

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
        return auth.private(response)

    return app
