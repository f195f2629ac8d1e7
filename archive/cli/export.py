"""`archive export`: the whole catalog, one record per file."""
from __future__ import annotations

import sys

import click
from click.core import ParameterSource

from archive.cli import AppContext
from archive.cli.export_standards import SUBCOMMANDS
from archive.errors import UsageError
from archive.export import export_records, write_export


# A group: `archive export` alone is the whole-catalog export; `archive export ead|eac|dc|bag`
# are the archives' standards (archive/cli/export_standards.py).
@click.group("export", invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True,
              help="JSON Lines, or CSV for Excel (UTF-8 with a BOM, formula-safe).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@click.pass_obj
def command(app: AppContext, fmt: str, output: str | None) -> None:
    """Export every catalogued file with its item's metadata (keys in README); or, with a
    subcommand, a finding aid (ead), an authority record (eac), Dublin Core (dc) or a bag."""
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is not None:
        if output is not None or ctx.get_parameter_source("fmt") != ParameterSource.DEFAULT:
            raise UsageError(f"--format and -o before `{ctx.invoked_subcommand}` belong to the "
                             "whole-catalog export; give the subcommand's own options after it")
        return
    catalog = app.open_catalog(read_only=True)
    with catalog.session() as s:
        if output is None:
            count = write_export(export_records(s), fmt, sys.stdout)
        else:
            try:
                with open(output, "w", encoding="utf-8", newline="") as fh:
                    count = write_export(export_records(s), fmt, fh)
            except OSError as exc:
                raise UsageError(f"cannot write {output}: {exc.strerror}") from None
            click.echo(f"Exported {count} files to {output}", err=True)


for _sub in SUBCOMMANDS:
    command.add_command(_sub)
