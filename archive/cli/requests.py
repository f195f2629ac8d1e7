"""`archive requests`: the queue of researchers' access requests, and staff's decisions."""
from __future__ import annotations

import json

import click

from archive.access_requests import (
    DEFAULT_DAYS, MAX_DAYS, STATES, RequestLine, approve, deny, list_requests, request_line,
)
from archive.cli import AppContext, by_option
from archive.events import agent_name


@click.group("requests")
def command() -> None:
    """Researchers' requests to see restricted items: list, approve (a grant for that item
    that expires) or deny. Each decision is an event on the item."""


@command.command("list")
@click.option("--status", "states", multiple=True, type=click.Choice(STATES),
              help="Only requests in this state (repeat for several): pending, approved (a "
                   "grant in force), expired or denied.")
@click.option("--user", metavar="NAME", help="Only this person's requests.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_obj
def list_command(app: AppContext, states: tuple[str, ...], user: str | None,
                 as_json: bool) -> None:
    """List requests, newest first."""
    catalog = app.open_catalog(read_only=True)
    with catalog.session() as s:
        lines = list_requests(s, states, user)
    for line in lines:
        click.echo(json.dumps(line.to_json(), ensure_ascii=False) if as_json else line.line())
    if not lines and not as_json:
        click.echo("No requests.")


def _decided(line: RequestLine) -> None:
    if line.state == "approved":
        click.echo(f"Approved request #{line.id}: {line.user} may see {line.accession} until "
                   f"{line.expires_at:%Y-%m-%d %H:%M} UTC.")
    else:
        click.echo(f"Denied request #{line.id} of {line.user} for {line.accession}.")


@command.command("approve")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--days", type=click.IntRange(1, MAX_DAYS), default=DEFAULT_DAYS,
              show_default=True, help="How long the grant lasts, from now.")
@click.option("--note", metavar="TEXT", help="A note the researcher sees with the decision.")
@by_option("Who decides")
@click.pass_obj
def approve_command(app: AppContext, request_id: int, days: int, note: str | None,
                    by: str | None) -> None:
    """Grant request ID: that researcher sees that item, and only it, for --days."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        approve(s, request_id, agent_name(by), days, note)
        line = request_line(s, request_id)
    _decided(line)


@command.command("deny")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--note", metavar="TEXT", help="Why, for the researcher.")
@by_option("Who decides")
@click.pass_obj
def deny_command(app: AppContext, request_id: int, note: str | None, by: str | None) -> None:
    """Refuse request ID."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        deny(s, request_id, agent_name(by), note)
        line = request_line(s, request_id)
    _decided(line)
