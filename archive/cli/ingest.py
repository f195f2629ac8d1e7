"""`archive ingest`: catalogue folders, print a summary, exit 1 when files had problems."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from archive.cli import EXIT_PROBLEMS, AppContext
from archive.interrupts import forked_children_end_quietly
from archive.errors import Interrupted
from archive.fields import MATERIAL_TYPES
from ingest.report import IngestReport, Progress, summary_text

R = TypeVar("R")


def _describe(report: IngestReport) -> str:
    c = report.counts()
    return f"new {c['new']} · unchanged {c['unchanged']} · problems {c['problems']}"


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(file_okay=True))
@click.option("--scientist", metavar="NAME", help="Attribute every file to this scientist "
              "(any recorded name or variant); a manifest row still wins.")
@click.option("--type", "material", metavar="TYPE",
              help=f"Material type for every item: {', '.join(MATERIAL_TYPES)} (or 信件, 手稿, …).")
@click.option("--manifest", type=click.Path(dir_okay=False), metavar="FILE",
              help="CSV manifest: path, scientist, type, title, date, description, access, "
                   "rights, location (+ any extra columns). Paths are relative to the folder.")
@click.option("--include-manifests", is_flag=True,
              help="Catalogue CSV files at the root whose header has a path column (they "
                   "are taken for manifests and skipped otherwise). A file once used as a "
                   "manifest is never catalogued.")
@click.option("--include-forgotten", is_flag=True,
              help="Catalogue again the files `archive forget` took out (they are skipped "
                   "otherwise, with a line in the summary).")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
              help="Extraction worker processes (default: one per core); 0 extracts in this "
                   "process, one file at a time, with no time limit (for debugging).")
@click.option("--timeout", type=click.FloatRange(min=1), default=None,
              help="Seconds one file may take to extract before it is given up (default 120).")
@click.option("--wait", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="If another ingest holds the catalog, wait this long for it (default 0).")
@click.option("--retry-problems", is_flag=True,
              help="Extract again the files that had problems, even if unchanged.")
@click.option("--ocr", "with_ocr", is_flag=True,
              help="Then read the scans of letters, manuscripts and documents as `archive ocr` "
                   "does (pages already read are skipped).")
@click.option("--dry-run", is_flag=True, help="Say what would be done; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@click.pass_obj
def command(app: AppContext, paths: tuple[str, ...], scientist: str | None,
            material: str | None, manifest: str | None, include_manifests: bool,
            include_forgotten: bool, jobs: int | None,
            timeout: float | None, wait: float | None, retry_problems: bool, with_ocr: bool,
            dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Catalogue every file under the PATHS folders, in place. Unchanged files are skipped;
    run it again after an interruption to continue. Exit 0: clean; 1: some files had problems;
    2: nothing was done (bad folder, option or manifest)."""
    forked_children_end_quietly()
    overrides: dict[str, Any] = {k: v for k, v in (("jobs", jobs or None),
                                                   ("file_timeout", timeout),
                                                   ("lock_wait", wait)) if v is not None}
    app.settings = app.settings.with_options(**overrides)
    from ingest.options import IngestOptions
    # --jobs 0 (and --debug, unless --jobs says otherwise) is the sequential mode; the
    # setting `jobs = 0` keeps meaning one worker per core.
    options = IngestOptions(scientist=scientist, type=material, manifest=manifest,
                            dry_run=dry_run, retry_problems=retry_problems,
                            include_manifests=include_manifests,
                            include_forgotten=include_forgotten,
                            in_process=jobs == 0 or (jobs is None and app.debug))
    try:
        report = None
        if not with_ocr:
            # A re-run that changes nothing is told and recorded without the catalog's
            # models and the ingest machinery (#13.8); None: run the ingest.
            from ingest.noop import noop_run
            report = _with_progress(quiet, lambda p: noop_run(app.settings, paths, options, p))
        if report is None:
            from ingest.pipeline import check_ingest, ingest  # media: not for --help
            if dry_run:
                catalog = _existing_catalog(app)
            else:
                if _no_catalog_yet(app):
                    check_ingest(None, paths, options)  # a bad manifest leaves no empty catalog
                catalog = app.open_catalog(create=True)
            report = _with_progress(quiet, lambda p: ingest(catalog, paths, options, p,
                                                            app.settings))
    except Interrupted as stop:
        if as_json and isinstance(stop.partial, IngestReport):
            click.echo(json.dumps(stop.partial.to_json(), ensure_ascii=False, indent=2))
        raise  # the command group prints the resume message and exits 130
    read = None
    if with_ocr and not dry_run:
        from archive.cli.ocr import run_ocr
        from ingest.ocr import OcrOptions
        read = run_ocr(catalog, OcrOptions(), quiet, as_json, options.in_process)
    if as_json:
        out = report.to_json()
        if read is not None:
            out["ocr"] = read.to_json()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        click.echo(summary_text(report))
        if read is not None:
            from archive.cli.ocr import summary_text as ocr_summary
            click.echo(ocr_summary(read))
    if report.exit_code or (read is not None and read.problems):
        sys.exit(EXIT_PROBLEMS)


def _with_progress(quiet: bool, run: Callable[[Progress | None], R]) -> R:
    """Run with a progress bar on a terminal (the walk counts the files as it goes: the bar's
    total is the files found), without one otherwise."""
    if quiet or not sys.stderr.isatty():
        return run(None)
    from archive.cli.progress import RichBar
    with RichBar(lambda r: r.seen, lambda r: r.done, _describe) as progress:
        return run(progress)


def _existing_catalog(app: AppContext):  # type: ignore[no-untyped-def]
    """A dry run never creates a catalog: with none yet, everything is simply new."""
    if _no_catalog_yet(app):
        return None
    return app.open_catalog(create=False)


def _no_catalog_yet(app: AppContext) -> bool:
    path = app.settings.catalog_path
    return path is not None and not path.exists()
