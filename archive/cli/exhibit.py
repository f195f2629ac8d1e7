"""`archive exhibit`: curators' exhibit lists, and their exports for the museum."""
from __future__ import annotations

import json
from pathlib import Path

import click

from archive.cli import AppContext
from archive.errors import UsageError
from archive.exhibits import (
    add_objects, create_exhibit, delete_exhibit, get_exhibit, list_exhibits, move_object,
    remove_objects, set_caption,
)

FORMATS = ("csv", "xlsx", "json", "html", "iiif")
# Where each format goes without -o: one name per format, so exporting one never replaces
# another (json and iiif are both JSON files).
DEFAULT_NAMES = {"csv": "{slug}.csv", "xlsx": "{slug}.xlsx", "json": "{slug}.json",
                 "html": "{slug}-catalogue", "iiif": "{slug}.iiif.json"}


@click.group("exhibit")
def command() -> None:
    """Build exhibit lists (ordered objects with captions, in sections) and export them."""


@command.command("create")
@click.argument("slug")
@click.option("--title", required=True, help="Title, e.g. \"两弹一星\".")
@click.option("--description", help="A paragraph introducing the exhibit.")
@click.pass_obj
def create(app: AppContext, slug: str, title: str, description: str | None) -> None:
    """Create the exhibit SLUG (lower-case letters, digits, - and _)."""
    with app.open_catalog().session() as s:
        create_exhibit(s, slug, title, description)
    click.echo(f"Created exhibit {slug}: {title}")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_(app: AppContext, as_json: bool) -> None:
    """List exhibits with their object counts."""
    with app.open_catalog(read_only=True).session() as s:
        rows = list_exhibits(s)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['slug']:<24} {r['objects']:>4} objects  {r['title']}")


@command.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def show(app: AppContext, slug: str, as_json: bool) -> None:
    """Show an exhibit's objects in order, by section, with captions."""
    with app.open_catalog(read_only=True).session() as s:
        e = get_exhibit(s, slug)
        objects = [{"position": x.position, "section": x.section,
                    "accession": x.item.accession, "title": x.item.title,
                    "access": x.item.access, "caption": x.caption} for x in e.entries]
        head = {"slug": e.slug, "title": e.title, "description": e.description}
    if as_json:
        click.echo(json.dumps({**head, "objects": objects}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{head['title']}  ({slug}, {len(objects)} objects)")
    if head["description"]:
        click.echo(f"  {head['description']}")
    section: object = object()
    for o in objects:
        if o["section"] != section:
            section = o["section"]
            click.echo(f"[{section}]" if section else "[no section]")
        flag = "" if o["access"] == "open" else f"  ({o['access']})"
        click.echo(f"  {o['position']:>3}. {o['accession']}  {o['title']}{flag}")
        if o["caption"]:
            click.echo(f"       {o['caption']}")


@command.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete(app: AppContext, slug: str, yes: bool) -> None:
    """Delete an exhibit (the catalogued items stay)."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        title = get_exhibit(s, slug).title
    if not yes and not click.confirm(f"Delete the exhibit {slug} ({title})?", default=False):
        raise click.Abort()
    with catalog.session() as s:
        delete_exhibit(s, slug)
    click.echo(f"Deleted exhibit {slug}")


def _query_accessions(app: AppContext, query: str, include_restricted: bool) -> list[str]:
    from search.searcher import MAX_LIMIT, SearchOptions, SearchService
    found: list[str] = []
    with SearchService(app.open_catalog(), writable=True) as service:
        while True:
            page = service.search(SearchOptions(query=query, limit=MAX_LIMIT,
                                                offset=len(found),
                                                include_restricted=include_restricted))
            found += [h["accession"] for h in page.hits]
            if not page.hits or len(found) >= page.total:
                return found


@command.command("add")
@click.argument("slug")
@click.argument("accessions", nargs=-1)
@click.option("--query", metavar="QUERY", help="Add every hit of this search (the query "
              "language of `archive search`), in date order for filters, else by relevance.")
@click.option("--caption", help="Caption for the added objects.")
@click.option("--section", help="Section (room or case) to add them to; it is created if new.")
@click.option("--include-restricted", is_flag=True,
              help="With --query: also add restricted and closed items.")
@click.pass_obj
def add(app: AppContext, slug: str, accessions: tuple[str, ...], query: str | None,
        caption: str | None, section: str | None, include_restricted: bool) -> None:
    """Add objects by ACCESSION number, or all hits of --query."""
    wanted = list(accessions)
    if query is not None:
        wanted += _query_accessions(app, query, include_restricted)
    if not wanted:
        raise UsageError("give accession numbers or --query (nothing was found to add)")
    with app.open_catalog().session() as s:
        result = add_objects(s, slug, wanted, caption, section)
    click.echo(f"Added {len(result.added)} object(s) to {slug}"
               + (f"; already there: {', '.join(result.already)}" if result.already else ""))


@command.command("remove")
@click.argument("slug")
@click.argument("accessions", nargs=-1, required=True)
@click.pass_obj
def remove(app: AppContext, slug: str, accessions: tuple[str, ...]) -> None:
    """Remove objects from the exhibit."""
    with app.open_catalog().session() as s:
        remove_objects(s, slug, list(accessions))
    click.echo(f"Removed {len(accessions)} object(s) from {slug}")


@command.command("move")
@click.argument("slug")
@click.argument("accession")
@click.option("--to", "position", type=int, required=True, help="New position (1 = first).")
@click.option("--section", help="Also move it into this section.")
@click.pass_obj
def move(app: AppContext, slug: str, accession: str, position: int,
         section: str | None) -> None:
    """Move an object to another position (and section)."""
    with app.open_catalog().session() as s:
        move_object(s, slug, accession, position, section)
    click.echo(f"Moved {accession} to position {position}")


@command.command("caption")
@click.argument("slug")
@click.argument("accession")
@click.argument("text")
@click.pass_obj
def caption(app: AppContext, slug: str, accession: str, text: str) -> None:
    """Set an object's caption (an empty TEXT removes it)."""
    with app.open_catalog().session() as s:
        set_caption(s, slug, accession, text)
    click.echo(f"Caption of {accession} set")


@command.command("export")
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="csv (Excel, UTF-8 BOM), xlsx, json, html (printable folder), iiif.")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="File (or, for html, folder) to write; default here: SLUG.csv, SLUG.xlsx, "
                   "SLUG.json, SLUG-catalogue/ (html), SLUG.iiif.json.")
@click.option("--include-restricted", is_flag=True,
              help="Export restricted and closed objects too (otherwise they stop the export).")
@click.option("--base-url", default=None, metavar="URL",
              help="For iiif: where the researchers' site serves the files "
                   "(default http://127.0.0.1:8000).")
@click.pass_obj
def export(app: AppContext, slug: str, fmt: str, output: str | None,
           include_restricted: bool, base_url: str | None) -> None:
    """Export an exhibit checklist for designers, registrars and display systems."""
    from archive.exhibit_export.rows import build_export
    catalog = app.open_catalog(read_only=True)
    with catalog.session() as s:
        data = build_export(s, slug, app.settings.derivatives_dir, include_restricted)
    target = Path(output or DEFAULT_NAMES[fmt].format(slug=slug))
    try:
        written = _write(data, fmt, target, base_url)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    missing = sum(1 for r in data.rows if not r.thumbnail)
    note = f" ({missing} without a thumbnail: run `archive derive`)" \
        if missing and fmt in ("html", "xlsx") else ""
    click.echo(f"Exported {len(data.rows)} objects to {written}{note}")


def _write(data, fmt: str, target: Path, base_url: str | None) -> Path:  # type: ignore[no-untyped-def]
    from archive.exhibit_export import htmlpage, iiif, jsonfile, tabular
    if fmt == "html":
        return htmlpage.write_html(data, target)
    if fmt == "csv":
        tabular.write_csv(data, target)
    elif fmt == "xlsx":
        tabular.write_xlsx(data, target)
    elif fmt == "json":
        jsonfile.write_json(data, target)
    else:
        iiif.write_manifest(data, target, base_url or iiif.DEFAULT_BASE_URL)
    return target
