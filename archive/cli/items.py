"""`archive items`: the catalog's items as a list, and as a spreadsheet to edit in bulk."""
from __future__ import annotations

import json
from pathlib import Path

import click

from archive.cli import AppContext, by_option
from archive.cli.indexing import follow_index
from archive.errors import UsageError
from archive.events import agent_name
from archive.spreadsheet import FORMATS, export_items, import_items
from archive.withdrawal import list_items

PAGE = 1000  # search hits asked for at a time when exporting a query's items


@click.group("items")
def command() -> None:
    """List items; export them to a spreadsheet and import the edited sheet."""


@command.command("list")
@click.option("--withdrawn", is_flag=True, help="Only withdrawn items, with when and why.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one item a line.")
@click.pass_obj
def list_(app: AppContext, withdrawn: bool, as_json: bool) -> None:
    """Every item in accession order (withdrawn ones marked), or only the withdrawn."""
    catalog = app.open_catalog(read_only=True)
    with catalog.session() as s:
        for line in list_items(s, withdrawn_only=withdrawn):
            if as_json:
                click.echo(json.dumps(line.to_json(), ensure_ascii=False))
                continue
            facts = " · ".join(x for x in (line.type, line.scientist, line.date, line.access)
                               if x)
            text = f"{line.accession}  {line.title}  [{facts}]"
            if line.withdrawn_at is not None:
                text += (f"  withdrawn {line.withdrawn_at:%Y-%m-%d %H:%M} UTC: "
                         f"{line.withdrawn_reason}")
            click.echo(text)


def _query_accessions(app: AppContext, query: str) -> list[str]:
    """Every hit of a search, restricted items included (the sheet is for staff)."""
    from search.searcher import SearchOptions, SearchService
    found: list[str] = []
    with SearchService(app.open_catalog()) as service:
        while True:
            page = service.search(SearchOptions(query=query, limit=PAGE, offset=len(found),
                                                include_restricted=True))
            found += [h["accession"] for h in page.hits]
            if not page.hits or len(found) >= page.total:
                return found


@command.command("export")
@click.argument("query", required=False, default="")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="csv or xlsx (default: from the file name, else csv).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              metavar="FILE", help="The spreadsheet to write.")
@click.pass_obj
def export(app: AppContext, query: str, fmt: str | None, output: str) -> None:
    """Write one row per item (accession and the editable fields) to FILE, for editing in a
    spreadsheet; QUERY (the search language) limits it to the hits, else every item."""
    if fmt is None:
        fmt = "xlsx" if output.lower().endswith(".xlsx") else "csv"
    accessions = _query_accessions(app, query) if query.strip() else None
    catalog = app.open_catalog()
    with catalog.session() as s:
        try:
            count = export_items(s, Path(output), fmt, accessions)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"Wrote {count} item(s) to {output}", err=True)


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and print the changes; write "
              "nothing.")
@by_option("Who makes the changes")
@click.pass_obj
def import_(app: AppContext, file: str, dry_run: bool, by: str | None) -> None:
    """Read back an edited sheet (CSV in UTF-8 or GB18030, or XLSX): every row is checked
    before anything is written; the fields that differ are printed and written."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        result = import_items(s, file, dry_run=dry_run, agent=agent_name(by))
    for change in result.changes:
        click.echo(change.line())
    verb = "Would change" if dry_run else "Changed"
    fields = len(result.changes)
    items = len({c.accession for c in result.changes})
    click.echo(f"{verb} {fields} field(s) of {items} item(s); {result.rows} row(s) read.",
               err=True)
    if result.written:
        follow_index(catalog)
