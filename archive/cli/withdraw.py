"""`archive withdraw`: take items off every public surface; the catalog keeps them."""
from __future__ import annotations

import click

from archive.cli import AppContext, by_option
from archive.cli.indexing import follow_index
from archive.events import agent_name
from archive.withdrawal import withdraw


@click.command("withdraw")
@click.argument("accessions", nargs=-1, required=True)
@click.option("--reason", required=True, metavar="TEXT",
              help="Why (kept in each item's provenance).")
@by_option("Who withdraws them")
@click.pass_obj
def command(app: AppContext, accessions: tuple[str, ...], reason: str, by: str | None) -> None:
    """Withdraw the items ACCESSIONS...: gone from search, the site, exhibit exports and
    `archive export`, kept in the catalog with their files and events. `archive reinstate`
    brings them back."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        outcome = withdraw(s, list(accessions), reason, agent_name(by))
    for accession in outcome.done:
        click.echo(f"Withdrawn: {accession}")
    for accession in outcome.unchanged:
        click.echo(f"Already withdrawn: {accession}")
    if outcome.done:
        follow_index(catalog)
