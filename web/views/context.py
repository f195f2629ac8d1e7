"""What a request reads through: the blueprint, the catalog session and the search service of
the current request, taken when first asked for and given back when the request ends (the
app's teardown), and who is asking (`viewer()`). Requests read through a read-only catalog
(datasette's immutable mode); keeping the search index current is the writers' job (ingest,
edit, reindex), never a request's. The one thing the site writes is accounts (sign-ins, failed
attempts, passwords), through `accounts()`: a second, writable catalog opened when first
needed, and never for a published copy no one may change."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, current_app, g
from sqlalchemy.orm import Session

from archive.access import ANONYMOUS, Viewer
from archive.catalog import Catalog
from archive.errors import CatalogError
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


class AccountsWriter:
    """The catalog opened for writing accounts, when a request first needs to (a site no one
    signs in to never opens it)."""

    def __init__(self, settings: Settings, enabled: bool):
        self.settings = settings
        self.enabled = enabled
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()

    def catalog(self) -> Catalog:
        if not self.enabled:
            raise CatalogError("this site serves a published copy of the catalog, which "
                               "cannot be written: signing in is not available here")
        with self._lock:
            if self._catalog is None:
                self._catalog = Catalog.open(self.settings, create=False)
            return self._catalog

    def close(self) -> None:
        with self._lock:
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None


@dataclass(frozen=True)
class SiteState:
    settings: Settings
    catalog: Catalog
    searches: SearchPool = field(init=False)
    writer: AccountsWriter = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "searches", SearchPool(self.catalog))
        object.__setattr__(self, "writer", AccountsWriter(self.settings,
                                                          not self.catalog.immutable))

    @property
    def accounts_enabled(self) -> bool:
        """Sign-in needs somewhere to count failed attempts: not a published copy."""
        return self.writer.enabled

    def close(self) -> None:
        self.searches.close()
        self.writer.close()


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


def viewer() -> Viewer:
    """Who this request is for (web/auth.py sets it before the view runs)."""
    return g.get("viewer", ANONYMOUS)


@contextmanager
def accounts() -> Iterator[Session]:
    """A unit of work on accounts, committed when it ends: the site's only writes."""
    with state().writer.catalog().session() as s:
        yield s


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
