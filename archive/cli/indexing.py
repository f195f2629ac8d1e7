"""Bringing the search index up to date after a command changed the catalog, as an ingest does
at its end: the catalog is the record, so an index problem is reported, never undoes the work."""
from __future__ import annotations

import logging

import click

from archive.catalog import Catalog

log = logging.getLogger(__name__)


def follow_index(catalog: Catalog) -> None:
    """Update the index now (nothing to do when it is current); say on stderr if it could not
    be, and how to mend it."""
    from search.state import INDEX_FAILURES, freshness
    try:
        if not freshness(catalog).stale:
            return
        from search.index import update
        update(catalog)
    except INDEX_FAILURES as exc:  # the catalog is changed either way
        log.debug("search index not updated", exc_info=True)
        click.echo(f"Warning: the search index was not updated ({type(exc).__name__}: {exc}); "
                   "the catalog is changed; run `archive reindex`", err=True)
