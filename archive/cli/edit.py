"""`archive edit`: correct one item's metadata; every changed field is an event."""
from __future__ import annotations

import click

from archive.cli import AppContext, by_option
from archive.cli.indexing import follow_index
from archive.edits import edit_item
from archive.events import agent_name


@click.command("edit")
@click.argument("accession")
@click.option("--title", help="The title (cannot be empty).")
@click.option("--date", help='1950, 1950-03, 1950-03-15, "circa 1950", 1950..1955; "" clears.')
@click.option("--scientist", help='Any recorded name or variant of a known scientist; "" '
              "leaves the item unattributed.")
@click.option("--type", "type_", metavar="TYPE",
              help="letter, manuscript, photograph, audio, video, document, other (or 信件, …).")
@click.option("--access", help="open, restricted or closed (or 公开, 限制, 保密, …).")
@click.option("--access-until", "access_until", metavar="DATE",
              help='Sealed until: a restricted or closed item opens by itself on this day '
              '(2051 = 2051-01-01, 2051-06, 2051-06-30); "" unseals.')
@click.option("--description", help='The description; "" clears it.')
@click.option("--rights", help='The rights statement; "" clears it.')
@click.option("--location", help='The physical location (box, shelf); "" clears it.')
@click.option("--collection", help='The collection or series (全宗, 系列); "" clears it.')
@by_option()
@click.pass_obj
def command(app: AppContext, accession: str, title: str | None, date: str | None,
            scientist: str | None, type_: str | None, access: str | None,
            access_until: str | None, description: str | None, rights: str | None,
            location: str | None, collection: str | None, by: str | None) -> None:
    """Change the metadata of the item ACCESSION (any case). Each value is checked as a
    manifest cell is; each changed field is recorded with its old and new value, and search
    finds the new values at once."""
    given = {"title": title, "date": date, "scientist": scientist, "type": type_,
             "access": access, "description": description, "rights": rights,
             "location": location, "access_until": access_until, "collection": collection}
    catalog = app.open_catalog()
    with catalog.session() as s:
        changes = edit_item(s, accession, {k: v for k, v in given.items() if v is not None},
                            agent_name(by))
    if not changes:
        click.echo("Nothing changed: the item already has these values.")
        return
    for change in changes:
        click.echo(change.line())
    follow_index(catalog)
