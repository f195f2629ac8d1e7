"""`archive upgrade`: apply the schema migrations a catalog made by an older version lacks."""
from __future__ import annotations

import click

from archive.cli import AppContext


@click.command("upgrade")
@click.pass_obj
def command(app: AppContext) -> None:
    """Bring the catalog up to this version's schema (every command that writes does this
    itself; this does only that, e.g. before several machines use a PostgreSQL catalog).
    Exit 0 when the catalog is up to date, 2 when it cannot be (made by a newer version, not
    a catalog, not writable)."""
    catalog = app.open_catalog()
    try:
        found = catalog.upgraded
        if found is None:
            from archive.schema import HEAD
            click.echo(f"The catalog {app.settings.catalog} is up to date "
                       f"(schema revision {HEAD}).")
        else:
            before = (f"schema revision {found.revision}" if found.revision
                      else "a release from before schema revisions")
            click.echo(f"Upgraded the catalog {app.settings.catalog} from {before} to schema "
                       f"revision {found.head}.")
    finally:
        catalog.close()
