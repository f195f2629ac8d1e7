"""`archive verify`: fixity checks of catalogued files; exit 0 all ok, 1 any not, 130 on Ctrl-C."""
from __future__ import annotations

import json
import sys

import click

from archive.cli import EXIT_PROBLEMS, AppContext, by_option
from archive.cli.progress import RichBar
from archive.fixity import FixityReport, VerifyOptions, count_targets, summary_text, verify

EXIT_INTERRUPTED = 130


def _done(report: FixityReport) -> int:
    return report.checked


def _describe(report: FixityReport) -> str:
    bad = report.checked - report.ok
    return f"ok {report.ok} · not ok {bad} · {report.bytes / 2**20:,.0f} MiB"


@click.command("verify")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--all", "check_all", is_flag=True,
              help="Check every catalogued file, however recently it was verified.")
@click.option("--older-than", type=click.FloatRange(min=0), metavar="DAYS",
              help="Only files not verified in the last DAYS days (never verified included).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Check at most N files.")
@click.option("--max-seconds", type=click.FloatRange(min=0), metavar="S",
              help="Start no file after S seconds (a nightly run in rotation).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
              help="Files read at once (default: one per core).")
@by_option("Who checks them")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.pass_obj
def command(app: AppContext, paths: tuple[str, ...], check_all: bool, older_than: float | None,
            limit: int | None, max_seconds: float | None, jobs: int | None, by: str | None,
            as_json: bool, quiet: bool) -> None:
    """Re-read catalogued files and compare each SHA-256 with the catalog, whatever size and
    mtime say. PATHS limit the check to files under them; without them, the files least
    recently verified go first. A changed or missing file is marked so, never repaired.
    Exit 0: all ok; 1: some changed, missing or unreadable; 2: bad option or path; 130:
    stopped by Ctrl-C (what was checked is recorded)."""
    catalog = app.open_catalog()
    options = VerifyOptions(paths=paths, all=check_all, older_than_days=older_than,
                            limit=limit, max_seconds=max_seconds,
                            jobs=jobs if jobs else app.settings.worker_count, by=by)
    if not quiet and sys.stderr.isatty():
        with RichBar(count_targets(catalog, options), _done, _describe) as progress:
            report = verify(catalog, options, progress)
    else:
        report = verify(catalog, options)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(summary_text(report))
    if report.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if report.exit_code:
        sys.exit(EXIT_PROBLEMS)
