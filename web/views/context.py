"""What a request reads through: the blueprint, the catalog session and the search service of
the current request, taken when first asked for and given back when the request ends (the
app's teardown). Nothing here writes: the site is read-only (datasette's immutable mode);
keeping the search index current is the writers' job (ingest, edit, reindex), never a
request's."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Blueprint, current_app, g
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.settings import Settings
from search.searcher import SearchService

site = Blueprint("site", __name__)


class SearchPool:
    """Open read-only search services, lent to one request at a time. A service keeps its
    searcher and facet tables between queries: at 10,000 items a faceted search took 476 ms on
    a freshly opened service and 136 ms on a kept one, so services are not closed after every
    request but given back at its teardown; beyond `size` idle ones (one per server thread)
    they are closed, and `close()` closes them all when the site stops."""

    def __init__(self, catalog: Catalog, size: int = 8):
        self.catalog = catalog
        self.size = size
        self._idle: list[SearchService] = []
        self._lock = threading.Lock()

    def take(self) -> SearchService:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return open_search(self.catalog)

    def give_back(self, service: SearchService) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(service)
                return
        service.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for service in idle:
            service.close()


@dataclass(frozen=True)
class SiteState:
    settings: Settings
    catalog: Catalog
    searches: SearchPool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "searches", SearchPool(self.catalog))


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
    """This request's search service, its own until the request ends."""
    if "archive_search" not in g:
        g.archive_search = state().searches.take()
    return g.archive_search


def close(_exc: BaseException | None = None) -> None:
    """Teardown (the app registers it): give back the search service, close the session."""
    service = g.pop("archive_search", None)
    if service is not None:
        state().searches.give_back(service)
    session = g.pop("archive_session", None)
    if session is not None:
        session.close()
