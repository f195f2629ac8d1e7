"""`archive verify-bag DIR`: is a folder a valid BagIt bag? (0 valid, 1 invalid, 2 not a bag)"""
from __future__ import annotations

from pathlib import Path

import click

from archive.cli import EXIT_PROBLEMS
from archive.cli.export_standards import quiet_bagit


@click.command("verify-bag")
@click.argument("folder", type=click.Path(file_okay=False))
def command(folder: str) -> None:
    """Check a BagIt bag with bagit-python: every payload file present and matching its
    manifests, nothing unlisted, tag files intact. Exit 0 valid, 1 invalid (each problem
    listed), 2 not a bag."""
    from archive.standards.bag import verify_bag
    quiet_bagit()
    problems = verify_bag(Path(folder))
    if not problems:
        click.echo(f"{folder}: a valid bag")
        return
    click.echo(f"{folder}: INVALID, {len(problems)} problem(s):")
    for problem in problems:
        click.echo(f"  {problem}")
    raise click.exceptions.Exit(EXIT_PROBLEMS)
