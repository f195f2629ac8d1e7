"""What a request reads through: the blueprint, the catalog session and the search service of
the current request, opened when first asked for and closed when the request ends. Nothing here
writes: the site is read-only (datasette's immutable mode); keeping the search index current is
the writers' job (ingest, edit, reindex), never a request's."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, g
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.settings import Settings
from search.searcher import SearchService

site = Blueprint("site", __name__)


@dataclass(frozen=True)
class SiteState:
    settings: Settings
    catalog: Catalog


def state() -> SiteState:
    return current_app.extensions["archive"]


def open_search(catalog: Catalog) -> SearchService:
    """The one place the site opens the index: read-only (the service's default), so a request
    never updates or rebuilds it."""
    return SearchService(catalog, writable=False)


def db() -> Session:
    """This request's session. It is never committed: closing it rolls back, so even a bug that
    changed an object could not write."""
    if "archive_session" not in g:
        g.archive_session = Session(state().catalog.engine)
    return g.archive_session


def searcher() -> SearchService:
    if "archive_search" not in g:
        g.archive_search = open_search(state().catalog)
    return g.archive_search


def close(_exc: BaseException | None = None) -> None:
    """Teardown: close what this request opened (the app registers it)."""
    service = g.pop("archive_search", None)
    if service is not None:
        service.close()
    session = g.pop("archive_session", None)
    if session is not None:
        session.close()
