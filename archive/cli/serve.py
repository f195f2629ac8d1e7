"""`archive serve`: the read-only researchers' site."""
from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import click

from archive.cli import AppContext
from archive.settings import EMAIL, Settings, default_admin_email

if TYPE_CHECKING:
    from archive.catalog import Catalog
    from search.follower import Follower


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--follow-every", type=click.FloatRange(min=0), metavar="SECONDS",
              help="How often the site applies catalog changes to its search index (the "
                   "follower); overrides the follow_every setting (default 5). 0: never.")
@click.option("--admin-email", metavar="ADDRESS",
              help="Who answers for the site (OAI-PMH Identify); overrides the admin_email "
                   "setting. Default: postmaster@<this host's fully qualified name>.")
@click.pass_obj
def command(app: AppContext, host: str, port: int, admin_email: str | None,
            follow_every: float | None) -> None:
    """Serve the researchers' site: search, scientists, items with players and transcripts,
    exhibits. Restricted and closed items do not exist on it for anonymous visitors; people
    signed in (`archive users`) see what their role and grants allow. A background follower
    applies catalog changes to the search index every few seconds; requests never write it."""
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
    if follow_every is not None:
        settings = settings.with_options(follow_every=follow_every)
    site = create_app(settings)
    follower = _follower(site.extensions["archive"].catalog, settings)
    click.echo(f"Serving {settings.catalog} at http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        waitress.serve(site, host=host, port=port, threads=8, ident="archive")
    finally:
        if follower is not None:
            follower.stop()
        site.extensions["archive"].close()  # the search services kept for requests, the writer


def _follower(catalog: Catalog, settings: Settings) -> Follower | None:
    """The background follower, started, or None (said on the terminal) when it cannot run."""
    from search.follower import Follower, why_not_follow
    if settings.follow_every <= 0:
        click.echo("Not following the catalog (follow_every is 0): run `archive reindex` or "
                   "an ingest to bring the search index up to date.")
        return None
    reason = why_not_follow(catalog)
    if reason is not None:
        click.echo(f"Not following the catalog: {reason}; searches use the index as it is.")
        return None
    follower = Follower(settings, settings.follow_every)
    follower.start()
    click.echo(f"Following the catalog: changes become searchable within about "
               f"{settings.follow_every:g} s (index {settings.index_dir}).")
    return follower
