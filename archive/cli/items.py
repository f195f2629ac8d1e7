"""`archive items`: the catalog's items as a list, and as a spreadsheet to edit in bulk."""
from __future__ import annotations

import json

import click

from archive.cli import AppContext
from archive.withdrawal import list_items


@click.group("items")
def command() -> None:
    """List items; export them to a spreadsheet and import the edited sheet."""


@command.command("list")
@click.option("--withdrawn", is_flag=True, help="Only withdrawn items, with when and why.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON Lines, one item a line.")
@click.pass_obj
def list_(app: AppContext, withdrawn: bool, as_json: bool) -> None:
    """Every item in accession order (withdrawn ones marked), or only the withdrawn."""
    catalog = app.open_catalog()
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
