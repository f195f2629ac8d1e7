"""`archive scientists`: the people the archive is about, and every name they go by."""
from __future__ import annotations

import json

import click

from archive.cli import AppContext
from archive.scientists import (
    ScientistRecord, import_scientists, list_scientists, require_name, upsert_scientist,
)


@click.group("scientists")
def command() -> None:
    """Import, add and list scientists and their name variants."""


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def import_(app: AppContext, file: str) -> None:
    """Import FILE.csv with columns name, variants (separated by ;), born, died, field."""
    catalog = app.open_catalog(create=True)
    with catalog.session() as s:
        added, updated = import_scientists(s, file)
    click.echo(f"Imported {added} new scientist(s), updated {updated}.")


@command.command("add")
@click.argument("name")
@click.option("--variant", "variants", multiple=True, help="Another name (pinyin, Wade-Giles, "
              "English, traditional characters); repeat for more.")
@click.option("--born", type=click.IntRange(1000, 2100), help="Year of birth.")
@click.option("--died", type=click.IntRange(1000, 2100), help="Year of death.")
@click.option("--field", "field_", metavar="FIELD", help="Field of science.")
@click.pass_obj
def add(app: AppContext, name: str, variants: tuple[str, ...], born: int | None,
        died: int | None, field_: str | None) -> None:
    """Add a scientist by preferred NAME, or add variants to an existing one."""
    catalog = app.open_catalog(create=True)
    with catalog.session() as s:
        _, created = upsert_scientist(s, ScientistRecord(require_name(name), variants, born,
                                                         died, field_))
    click.echo(f"{'Added' if created else 'Updated'} {name}.")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_(app: AppContext, as_json: bool) -> None:
    """List scientists with their variants and item counts."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        rows = list_scientists(s)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        life = f"{r['born'] or '?'}–{r['died'] or ''}" if r["born"] or r["died"] else ""
        click.echo(f"{r['name']}  ({r['code']})  {life}  {r['field'] or ''}  "
                   f"items: {r['items']}".replace("  ", " ").strip())
        if r["variants"]:
            click.echo(f"    also: {'; '.join(r['variants'])}")
