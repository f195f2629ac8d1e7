"""`archive scientists`: the people the archive is about, and every name they go by."""
from __future__ import annotations

import json

import click

from archive.cli import AppContext, by_option
from archive.cli.indexing import follow_index
from archive.events import agent_name
from archive.scientist_upkeep import (
    add_scientist, edit_scientist, merge_scientists, rename_scientist,
)
from archive.scientists import ScientistRecord, import_scientists, list_scientists, require_name


@click.group("scientists")
def command() -> None:
    """Import, add, list, merge, rename and correct scientists and their name variants."""


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
    """Add a scientist by preferred NAME, or add variants to an existing one. A name or
    variant that matches another scientist is refused, naming the command to run instead."""
    catalog = app.open_catalog(create=True)
    with catalog.session() as s:
        _, created = add_scientist(s, ScientistRecord(
            require_name(name), tuple(v.strip() for v in variants if v.strip()), born, died,
            field_))
    click.echo(f"{'Added' if created else 'Updated'} {name}.")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_(app: AppContext, as_json: bool) -> None:
    """List scientists with their variants and item counts."""
    catalog = app.open_catalog(read_only=True)
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


BY = by_option()


@command.command("merge")
@click.argument("source", metavar="FROM")
@click.argument("target", metavar="INTO")
@BY
@click.pass_obj
def merge(app: AppContext, source: str, target: str, by: str | None) -> None:
    """Make FROM and INTO one scientist: every item and name of FROM moves to INTO (FROM's
    names become variants of INTO) and FROM is removed. Accession numbers do not change."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        moved = merge_scientists(s, source, target, agent_name(by))
    click.echo(f"Merged {source} into {target}: {moved} item(s) moved.")
    follow_index(catalog)


@command.command("rename")
@click.argument("name")
@click.argument("new_preferred")
@BY
@click.pass_obj
def rename(app: AppContext, name: str, new_preferred: str, by: str | None) -> None:
    """Make NEW_PREFERRED the preferred name of the scientist NAME; the old preferred name
    becomes a variant (and still finds them). The accession code stays."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        old = rename_scientist(s, name, new_preferred, agent_name(by))
    click.echo(f"Renamed {old} to {new_preferred}; {old} stays as a variant.")
    follow_index(catalog)


@command.command("edit")
@click.argument("name")
@click.option("--born", type=click.IntRange(1000, 2100), help="Year of birth.")
@click.option("--died", type=click.IntRange(1000, 2100), help="Year of death.")
@click.option("--field", "field_", metavar="FIELD", help='Field of science ("" clears it).')
@click.option("--biography", metavar="TEXT", help='A short biography ("" clears it).')
@BY
@click.pass_obj
def edit(app: AppContext, name: str, born: int | None, died: int | None, field_: str | None,
         biography: str | None, by: str | None) -> None:
    """Correct the facts of the scientist NAME (any name or variant)."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        changed = edit_scientist(s, name, {"born": born, "died": died, "field": field_,
                                           "biography": biography}, agent_name(by))
    if not changed:
        click.echo("Nothing changed.")
    for fact, old, new in changed:
        click.echo(f"{name}: {fact}: {old or '∅'} → {new or '∅'}")
