"""`archive derive`: thumbnails, poster frames, waveforms and (optionally) access copies."""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from archive.cli import EXIT_PROBLEMS, AppContext
from archive.cli.progress import RichBar
from archive.errors import Interrupted

if TYPE_CHECKING:
    from ingest.derive import DeriveReport


@click.command("derive")
@click.option("--access-copies", is_flag=True,
              help="Also make web access copies: MP3 for WAV/FLAC/AIFF masters, H.264 MP4 for "
                   "video that is not H.264 MP4 already (FFmpeg, bundled).")
@click.option("--force", is_flag=True, help="Rebuild derivatives that already exist.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=None,
              help="Worker processes (default: one per core); 0 builds in this process, one "
                   "at a time, with no time limit (for debugging).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_obj
def command(app: AppContext, access_copies: bool, force: bool, jobs: int | None,
            as_json: bool, quiet: bool) -> None:
    """Build thumbnails (images, PDF first pages, cards for other documents), video poster
    frames and audio waveforms in <catalog>.derivatives/, skipping those already built.
    Exit 1 when some could not be made (each is listed)."""
    from ingest.derive import (  # media: not for --help
        DeriveOptions, DeriveReport, count_candidates, derive,
    )
    app.settings = app.settings.with_options(jobs=jobs or None)
    in_process = jobs == 0 or (jobs is None and app.debug)
    catalog = app.open_catalog()
    options = DeriveOptions(access_copies=access_copies, force=force)
    try:
        if not quiet and sys.stderr.isatty():
            with RichBar(count_candidates(catalog), lambda r: r.done,
                         lambda r: f"built {r.built} · failed {len(r.failed)}") as bar:
                report = derive(catalog, options, bar, in_process)
        else:
            report = derive(catalog, options, in_process=in_process)
    except Interrupted as stop:
        if as_json and isinstance(stop.partial, DeriveReport):
            click.echo(json.dumps(stop.partial.to_json(), ensure_ascii=False, indent=2))
        raise  # the command group prints the resume message and exits 130
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(report, app))
    if report.failed:
        sys.exit(EXIT_PROBLEMS)


def _summary(report: DeriveReport, app: AppContext) -> str:
    lines = [f"Derivatives in {app.settings.derivatives_dir}: {report.built} built, "
             f"{report.up_to_date} already up to date, {len(report.failed)} failed "
             f"({report.files} files, {report.seconds:.1f} s)"]
    lines += [f"  {f['path']} [{f['kind']}]: {f['reason']}" for f in report.failed]
    return "\n".join(lines)
