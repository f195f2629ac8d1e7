"""`archive forget`: take files catalogued by mistake out of the catalog, with a record why."""
from __future__ import annotations

import click

from archive.cli import AppContext, by_option
from archive.cli.indexing import follow_index
from archive.events import agent_name
from archive.forget import forget


@click.command("forget")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--reason", required=True, metavar="TEXT",
              help="Why (kept in the catalog's log with the path and checksum).")
@by_option("Who forgets them")
@click.pass_obj
def command(app: AppContext, paths: tuple[str, ...], reason: str, by: str | None) -> None:
    """Remove the catalogued files PATHS... (a manifest, a stray system file) from the catalog:
    their rows and text go, and an item left with no file goes too. Files on disk are not
    touched; a `deletion` event keeps the reason, path and checksum; accession numbers are
    never reused."""
    catalog = app.open_catalog()
    from ingest.writer import refresh_extents  # the one place an item's extent is summed
    with catalog.session() as s:
        forgotten = forget(s, list(paths), reason, agent_name(by))
        # Items that keep files lose the forgotten pages and seconds from their extent.
        refresh_extents(s, {f.item_id for f in forgotten if not f.item_gone})
    for f in forgotten:
        suffix = f"; item {f.accession} removed (no file left)" if f.item_gone \
            else f" (from item {f.accession})"
        click.echo(f"Forgotten: {f.path}{suffix}")
    follow_index(catalog)
