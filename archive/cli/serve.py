"""`archive serve`: the read-only researchers' site."""
from __future__ import annotations

import click

from archive.cli import AppContext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.pass_obj
def command(app: AppContext, host: str, port: int) -> None:
    """Serve the read-only researchers' site: search, scientists, items with players and
    transcripts, exhibits. Restricted and closed items do not exist on it."""
    import waitress

    from web.app import create_app
    site = create_app(app.settings)
    click.echo(f"Serving {app.settings.catalog} at http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        waitress.serve(site, host=host, port=port, threads=8, ident="archive")
    finally:
        site.extensions["archive"].searches.close()  # the search services kept for requests
