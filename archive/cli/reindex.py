"""`archive reindex`: rebuild the search index from the catalog."""
from __future__ import annotations

import sys

import click

from archive.cli import AppContext


@click.command("reindex")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_obj
def command(app: AppContext, quiet: bool) -> None:
    """Rebuild the search index from the catalog (the record). The old index stays usable
    until the new one is complete."""
    from archive.interrupts import forked_children_end_quietly
    from search.index import rebuild
    forked_children_end_quietly()  # Ctrl-C: the index writers end without tracebacks (#12.3)
    catalog = app.open_catalog()
    if not quiet and sys.stderr.isatty():
        from rich.progress import Progress
        with Progress(transient=True) as bar:
            task = bar.add_task("indexing", total=None)
            count = rebuild(catalog, lambda done, total: bar.update(task, completed=done,
                                                                    total=total))
    else:
        count = rebuild(catalog)
    click.echo(f"Indexed {count} items in {app.settings.index_dir}")
