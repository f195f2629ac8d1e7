"""`archive audit`: who viewed or downloaded restricted and closed material on the site."""
from __future__ import annotations

import json

import click

from archive.audit import audit_lines, read_since
from archive.cli import AppContext


@click.command("audit")
@click.option("--item", "accession", metavar="ACC", help="Only this item (any case).")
@click.option("--user", metavar="NAME", help="Only this person (signed in as NAME).")
@click.option("--since", metavar="DATE", help="Only from this day or moment on, UTC "
              "(2026-12-01 or 2026-12-01T18:30).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def command(app: AppContext, accession: str | None, user: str | None, since: str | None,
            as_json: bool) -> None:
    """The audit log, oldest first: each view or download of a restricted or closed item's
    page, file, derivative, IIIF manifest or image, or search snippet, served or refused,
    with who (or anonymous), when and from which address."""
    moment = read_since(since) if since else None
    catalog = app.open_catalog(read_only=True)
    count = 0
    with catalog.session() as s:
        for line in audit_lines(s, accession, user, moment):
            click.echo(json.dumps(line.to_json(), ensure_ascii=False) if as_json
                       else line.line())
            count += 1
    if not count and not as_json:
        click.echo("No entries.")
