"""`archive reinstate`: bring withdrawn items back to the public surfaces they left."""
from __future__ import annotations

import click

from archive.cli import AppContext, by_option
from archive.cli.indexing import follow_index
from archive.events import agent_name
from archive.withdrawal import reinstate


@click.command("reinstate")
@click.argument("accessions", nargs=-1, required=True)
@by_option("Who reinstates them")
@click.pass_obj
def command(app: AppContext, accessions: tuple[str, ...], by: str | None) -> None:
    """Reinstate the withdrawn items ACCESSIONS...: searchable and public again (as their
    access allows)."""
    catalog = app.open_catalog()
    with catalog.session() as s:
        outcome = reinstate(s, list(accessions), agent_name(by))
    for accession in outcome.done:
        click.echo(f"Reinstated: {accession}")
    for accession in outcome.unchanged:
        click.echo(f"Not withdrawn: {accession}")
    if outcome.done:
        follow_index(catalog)
