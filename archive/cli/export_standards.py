"""`archive export ead|eac|dc|bag`: the archives' standards, as subcommands of `export`.
Each parses its options, calls archive/standards and reports; XML and BagIt libraries are
imported only when one of these runs."""
from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click

from archive.cli import AppContext
from archive.errors import UsageError

_OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                       help="Write to this file instead of standard output.")
_RESTRICTED = click.option("--include-restricted", is_flag=True,
                           help="Include restricted and closed items (staff only; withdrawn "
                                "items are never exported).")


def quiet_bagit() -> None:
    """bagit-python logs each problem as a warning; the commands list them once themselves."""
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("bagit").setLevel(logging.ERROR)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@contextmanager
def _output(path: str | None) -> Iterator[IO[bytes]]:
    """Standard output, or a file written beside its name and renamed into place when
    complete, so an interrupted export never leaves half a document under the name."""
    if path is None:
        yield sys.stdout.buffer
        return
    partial = f"{path}.partial"
    try:
        with open(partial, "wb") as fh:
            yield fh
        os.replace(partial, path)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _search_accessions(app: AppContext, query: str,
                       include_restricted: bool) -> Iterator[list[str]]:
    """The hits of a search, a page at a time."""
    from search.searcher import MAX_LIMIT, SearchOptions, SearchService
    seen = 0
    # writable: a CLI brings a stale index up to date first, as `archive search` does.
    with SearchService(app.open_catalog(), writable=True) as service:
        while True:
            page = service.search(SearchOptions(query=query, limit=MAX_LIMIT, offset=seen,
                                                include_restricted=include_restricted))
            if not page.hits:
                return
            yield [h["accession"] for h in page.hits]
            seen += len(page.hits)
            if seen >= page.total:
                return


@click.command("ead")
@click.argument("scientist")
@_OUTPUT
@_RESTRICTED
@click.pass_obj
def ead(app: AppContext, scientist: str, output: str | None, include_restricted: bool) -> None:
    """An EAD3 finding aid of one scientist's fonds: a series per material type, an item per
    catalogued item. SCIENTIST is any recorded name or variant."""
    from archive.standards import source
    from archive.standards.ead import write_ead
    with app.open_catalog().session() as s:
        sid, record = source.scientist_record(s, scientist)
        fonds = source.fonds(s, sid, record, include_restricted)
        with _output(output) as out:
            count = write_ead(fonds, source.scientist_items(s, sid, include_restricted), out,
                              _now())
    if output:
        click.echo(f"Wrote the finding aid of {record.name} ({count} items) to {output}",
                   err=True)


@click.command("eac")
@click.argument("scientist")
@_OUTPUT
@click.pass_obj
def eac(app: AppContext, scientist: str, output: str | None) -> None:
    """An EAC-CPF 2.0 record of a scientist: every name with its script, dates, field,
    biography."""
    from archive.standards import source
    from archive.standards.eac import eac_document
    with app.open_catalog().session() as s:
        _, record = source.scientist_record(s, scientist)
    with _output(output) as out:
        out.write(eac_document(record, _now()))
    if output:
        click.echo(f"Wrote the EAC-CPF record of {record.name} to {output}", err=True)


@click.command("dc")
@click.argument("query", required=False, default="")
@_OUTPUT
@_RESTRICTED
@click.pass_obj
def dc(app: AppContext, query: str, output: str | None, include_restricted: bool) -> None:
    """Dublin Core (oai_dc) records of the items a search QUERY selects (the query language
    of `archive search`), or of every public item when there is no query. Streamed."""
    from archive.standards import source
    from archive.catalog import shown_url
    from archive.standards.dublin_core import write_dc
    from archive.standards.records import ItemRecord
    catalog = app.open_catalog()
    with catalog.session() as s:
        items: Iterator[ItemRecord]
        if query.strip():
            items = (item for page in _search_accessions(app, query, include_restricted)
                     for item in source.items_by_accession(s, page, include_restricted))
        else:
            items = source.all_items(s, include_restricted)
        with _output(output) as out:
            count = write_dc(items, out, shown_url(catalog.settings.catalog_url), _now())
    if output:
        click.echo(f"Wrote {count} Dublin Core records to {output}", err=True)


def _bag_selection(app: AppContext, accessions: tuple[str, ...], scientist: str | None,
                   query: str | None, include_restricted: bool) -> list[str]:
    chosen = [bool(accessions), scientist is not None, query is not None]
    if sum(chosen) != 1:
        raise UsageError("name the items with ACCESSION..., --scientist NAME or --query "
                         "QUERY (one of them)")
    if accessions:
        return list(dict.fromkeys(a.strip() for a in accessions))
    if query is not None:
        return [a for page in _search_accessions(app, query, include_restricted) for a in page]
    from sqlalchemy import select

    from archive.models import Item
    from archive.standards import source
    with app.open_catalog().session() as s:
        sid, _ = source.scientist_record(s, scientist or "")
        return list(s.scalars(select(Item.accession).where(
            Item.scientist_id == sid, source.visible(include_restricted))
            .order_by(Item.accession)))


@click.command("bag")
@click.argument("accessions", nargs=-1)
@click.option("--scientist", metavar="NAME", help="Every item of this scientist.")
@click.option("--query", metavar="QUERY", help="Every hit of this search.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="The bag folder to create (new, or empty).")
@click.option("--include-restricted", is_flag=True,
              help="Bag restricted and closed items too (otherwise they stop the export).")
@click.pass_obj
def bag(app: AppContext, accessions: tuple[str, ...], scientist: str | None,
        query: str | None, output: str, include_restricted: bool) -> None:
    """A BagIt 1.0 bag of items for transfer and preservation: the originals byte for byte
    (SHA-256 and SHA-512 manifests) and each item's Dublin Core, JSON record and PREMIS
    events in data/metadata/."""
    from archive.errors import NotFound
    from archive.standards import source
    from archive.standards.bag import build_bag
    quiet_bagit()
    wanted = _bag_selection(app, accessions, scientist, query, include_restricted)
    if not wanted:
        raise UsageError("nothing to bag: the selection holds no item")
    with app.open_catalog().session() as s:
        unknown, refused = source.not_exportable(s, wanted, include_restricted)
        if unknown:
            raise NotFound(f"no item with accession number {', '.join(unknown)}")
        if refused:
            raise UsageError(f"not bagged: {', '.join(refused)} are not open; pass "
                             "--include-restricted to bag restricted and closed items "
                             "(withdrawn items are never bagged)")
        what = (f"items {', '.join(wanted[:5])}{' …' if len(wanted) > 5 else ''}"
                if accessions else f"scientist {scientist}" if scientist else f"query {query}")
        summary = build_bag(s, source.items_by_accession(s, wanted, include_restricted,
                                                         with_events=True),
                            Path(output), f"{len(wanted)} item(s) of the scientists' archive: "
                            f"{what}")
    click.echo(f"Bagged {summary.items} items ({summary.files} files, {summary.bytes} bytes) "
               f"in {summary.path}; bagit validated it", err=True)


SUBCOMMANDS: tuple[click.Command, ...] = (ead, eac, dc, bag)
