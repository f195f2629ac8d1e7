"""`archive serve`: the read-only researchers' site."""
from __future__ import annotations

import socket

import click

from archive.cli import AppContext
from archive.settings import EMAIL, default_admin_email


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--admin-email", metavar="ADDRESS",
              help="Who answers for the site (OAI-PMH Identify); overrides the admin_email "
                   "setting. Default: postmaster@<this host's fully qualified name>.")
@click.pass_obj
def command(app: AppContext, host: str, port: int, admin_email: str | None) -> None:
    """Serve the researchers' site: search, scientists, items with players and transcripts,
    exhibits. Restricted and closed items do not exist on it for anonymous visitors; people
    signed in (`archive users`) see what their role and grants allow."""
    import waitress

    from web.app import create_app
    settings = app.settings
    if admin_email is not None:
        if not EMAIL.fullmatch(admin_email):
            raise click.BadParameter("not an e-mail address (name@host.domain)",
                                     param_hint="--admin-email")
        settings = settings.with_options(admin_email=admin_email)
    elif not settings.admin_email and "." not in socket.getfqdn().strip("."):
        click.echo(f"Warning: this host has no fully qualified name; harvesters are told to "
                   f"write to {default_admin_email(socket.getfqdn())}. Set admin_email "
                   "(ARCHIVE_ADMIN_EMAIL or --admin-email).", err=True)
    site = create_app(settings)
    click.echo(f"Serving {settings.catalog} at http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        waitress.serve(site, host=host, port=port, threads=8, ident="archive")
    finally:
        site.extensions["archive"].close()  # the search services kept for requests, the writer
