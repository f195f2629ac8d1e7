"""`archive runs`: past ingest and verify runs; `archive runs show N`: one run's summary again."""
from __future__ import annotations

import json

import click

from archive.cli import AppContext
from archive.runs import VERIFY, RunSummary, count_line, get_run, list_runs


def _table(runs: list[RunSummary]) -> str:
    if not runs:
        return "No runs yet: `archive ingest` records one."
    lines = [f"{'run':>5}  {'kind':<6}  {'started (UTC)':<19}  {'status':<11}  {'files':>7}  "
             "counts"]
    for r in runs:
        files = r.files()
        lines.append(f"{r.id:>5}  {r.kind:<6}  {r.started_at:%Y-%m-%d %H:%M:%S}  "
                     f"{r.status:<11}  {'' if files is None else files:>7}  "
                     f"{count_line(r.kind, r.counts)}")
    return "\n".join(lines)


@click.group("runs", invoke_without_command=True)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many of the latest runs to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def command(ctx: click.Context, limit: int, as_json: bool) -> None:
    """List past ingest and verify runs, newest first, with their counts. `archive runs show
    N` prints one run's summary as the run printed it."""
    if ctx.invoked_subcommand is not None:
        return
    app: AppContext = ctx.obj
    with app.open_catalog(read_only=True).session() as s:
        runs = list_runs(s, limit)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in runs], ensure_ascii=False, indent=2))
    else:
        click.echo(_table(runs))


@command.command("show")
@click.argument("run", type=int)
@click.option("--json", "as_json", is_flag=True,
              help="Print the run's report as JSON (the run's own --json, rebuilt).")
@click.pass_obj
def show(app: AppContext, run: int, as_json: bool) -> None:
    """Print run N's summary as the run printed it: counts, problems, skipped files,
    duplicates, missing, changed and unreadable files; also for interrupted runs."""
    with app.open_catalog(read_only=True).session() as s:
        stored = get_run(s, run)
    head = stored.summary
    if head.kind == VERIFY:
        from archive.fixity import report_from_run, summary_text
        report = report_from_run(stored)
        payload, text = report.to_json(), summary_text(report)
    else:
        from ingest.report import report_from_run as ingest_report, summary_text as ingest_text
        ingest = ingest_report(stored)
        payload, text = ingest.to_json(), ingest_text(ingest)
    if as_json:
        click.echo(json.dumps({**payload, "kind": head.kind, "status": head.status,
                               "started_at": head.started_at.isoformat(timespec="seconds")},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"Run {head.id}: {head.kind}, {head.status}, started "
               f"{head.started_at:%Y-%m-%d %H:%M:%S} UTC" +
               (f", roots {', '.join(head.roots)}" if head.roots else ""), err=True)
    click.echo(text)
