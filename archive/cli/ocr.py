"""`archive ocr`: machine-read the scans of letters, manuscripts and documents (Chinese OCR)."""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from archive.cli import EXIT_PROBLEMS, AppContext, by_option
from archive.interrupts import forked_children_end_quietly
from archive.cli.progress import RichBar
from archive.errors import Interrupted

if TYPE_CHECKING:
    from archive.catalog import Catalog
    from ingest.ocr import OcrOptions, OcrReport


@click.command("ocr")
@click.option("--type", "types", multiple=True, metavar="T",
              help="Read items of this type (repeatable): default letter, manuscript and "
                   "document; photograph (or other) on request. Chinese type words work too.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
              help="Worker processes (default: one per core); 0 reads in this process, one "
                   "page at a time, with no time limit (for debugging).")
@click.option("--force", is_flag=True,
              help="Read again pages already read with this engine and model.")
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N",
              help="Read at most N pages, then stop (run again to go on).")
@click.option("--max-seconds", type=click.FloatRange(min=0), default=None, metavar="S",
              help="Start no new page after S seconds (for nightly runs; run again to go on).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@by_option()
@click.pass_obj
def command(app: AppContext, types: tuple[str, ...], jobs: int | None, force: bool,
            limit: int | None, max_seconds: float | None, as_json: bool, quiet: bool,
            by: str | None) -> None:
    """Read the text of page images and scanned PDF pages (pages with no text layer) with
    RapidOCR's Chinese models, which ship with the programme (nothing is downloaded). Each
    page's lines are kept with their boxes and confidence, as machine-read text beside any
    transcription. Pages already read with the same engine and model are skipped, so a run
    that was stopped goes on where it was. Several runs (on several machines against one
    catalog) share the work: each reads the files it claims. Exit 0: all read; 1: some pages
    failed (each is listed); 130: interrupted."""
    from ingest.ocr import OcrOptions, parse_types  # media: not for --help
    forked_children_end_quietly()
    app.settings = app.settings.with_options(jobs=jobs or None)
    options = OcrOptions(types=parse_types(types), force=force, limit=limit,
                         max_seconds=max_seconds, by=by)
    catalog = app.open_catalog()
    report = run_ocr(catalog, options, quiet, as_json, jobs == 0 or (jobs is None and app.debug))
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(summary_text(report))
    if report.problems:
        sys.exit(EXIT_PROBLEMS)


def run_ocr(catalog: Catalog, options: OcrOptions, quiet: bool, as_json: bool,
            in_process: bool) -> OcrReport:
    """The OCR with a progress bar on a terminal; on Ctrl-C, the partial summary (as JSON
    when asked) before the command group's exit 130. Shared with `ingest --ocr`."""
    from ingest.ocr import OcrReport, ocr
    try:
        if not quiet and sys.stderr.isatty():
            with RichBar(lambda r: r.planned, lambda r: r.done, _describe) as bar:
                return ocr(catalog, options, bar, in_process)
        return ocr(catalog, options, in_process=in_process)
    except Interrupted as stop:
        if as_json and isinstance(stop.partial, OcrReport):
            click.echo(json.dumps(stop.partial.to_json(), ensure_ascii=False, indent=2))
        raise  # the command group prints the resume message and exits 130


def _describe(report: OcrReport) -> str:
    return f"lines {report.lines} · failed {len(report.problems)}"


def summary_text(report: OcrReport) -> str:
    rate = report.pages_per_second
    lines = [f"OCR: {report.pages} page{'s' if report.pages != 1 else ''} read, "
             f"{report.lines} lines, {report.characters} characters; {report.skipped} skipped "
             f"(already read, or with their own text layer); {len(report.problems)} "
             f"problem{'s' if len(report.problems) != 1 else ''} "
             f"({report.seconds:.1f} s" + (f", {rate:.2f} pages/s)" if rate else ")")]
    if report.stopped == "max-seconds":
        lines.append("Stopped at --max-seconds: run again to read the remaining pages.")
    lines += [f"  {p['path']} page {p['page']}: {p['reason']}" for p in report.problems]
    return "\n".join(lines)
