"""`archive derive`: thumbnails, poster frames, waveforms and access copies for the catalog,
built in isolated workers, skipping what is already there."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, insert, select

from archive.catalog import Catalog
from archive.claims import Claims
from archive.derivatives import derivative_path, page_image_path
from archive.errors import Interrupted
from archive.fields import MAIN_ROLES
from archive.models import Event, File, Root
from archive.paths import filesystem_path, local_root
from ingest.report import Progress
from ingest.workers import WorkerFailure, in_order, open_runner
from media.derivatives import (
    Derivative,
    access_copy,
    image_thumbnail,
    pdf_page_images,
    pdf_thumbnail,
    placeholder,
    poster_frame,
    waveform,
)

DERIVE_TIMEOUT = 600.0  # a long interview's waveform or access copy takes minutes, not hours
_MASTER_AUDIO = {"wav", "flac", "aiff", "w64", "rf64"}
_WEB_VIDEO = {"h264"}
CLAIM_BATCH = 50  # candidate files looked at, and claimed, per transaction


@dataclass(frozen=True)
class DeriveOptions:
    access_copies: bool = False
    force: bool = False


@dataclass(frozen=True)
class Task:
    file_id: int
    item_id: int
    path: str  # catalog path, for reports
    source: str
    kind: str
    dest: str
    fn: Callable[..., Derivative]
    args: tuple[Any, ...]
    last: bool = True  # the file's last task: when it settles, the file is done


@dataclass
class DeriveReport:
    files: int = 0
    built: int = 0
    up_to_date: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # {path, kind, reason}
    seconds: float = 0.0
    done: int = 0  # candidate files dealt with: the progress bar's count (count_candidates)

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "built": self.built, "up_to_date": self.up_to_date,
                "failed": self.failed, "seconds": round(self.seconds, 3)}


def wanted(mime: str | None, kind: str | None, fmt: str | None, tech: dict[str, Any],
           access: bool) -> list[str]:
    """The derivatives a file should have.

    wanted("image/jpeg", "image", "jpeg", {}, False)          -> ["thumbnail"]
    wanted("application/pdf", "pdf", "pdf", {}, False)        -> ["thumbnail", "pages"]
    wanted("audio/wav", "audio", "wav", {}, True)              -> ["waveform", "access-audio"]
    wanted("video/x-matroska", "video", "mkv", {"video_codec": "vp9"}, True)
                                                               -> ["poster", "access-video"]
    """
    if kind == "image" or (mime or "").startswith("image/") and kind not in ("other",):
        return ["thumbnail"]
    if kind == "pdf":
        return ["thumbnail", "pages"]  # pages: each page's image, the IIIF canvases'
    if kind in ("docx", "text"):
        return ["thumbnail"]
    if kind == "video":
        web = tech.get("video_codec") in _WEB_VIDEO and fmt in ("mp4", "mov", "m4a")
        return ["poster"] + (["access-video"] if access and not web else [])
    if kind == "audio":
        return ["waveform"] + (["access-audio"] if access and fmt in _MASTER_AUDIO else [])
    return []


def _task_for(kind: str, f: File, source: str, dest: str,
              base: Path) -> tuple[Callable[..., Derivative], tuple[Any, ...]]:
    tech = f.tech or {}
    if kind == "thumbnail":
        if (tech.get("kind") == "image") or (f.mime or "").startswith("image/"):
            return image_thumbnail, (source, dest)
        if tech.get("kind") == "pdf":
            return pdf_thumbnail, (source, dest)
        label = (f.format or "doc").upper()
        detail = f"{f.pages} pages" if f.pages else (tech.get("title") or "")
        return placeholder, (dest, label, str(detail)[:30])
    if kind == "pages":
        pages = [str(page_image_path(base, f.sha256 or "", n))
                 for n in range(1, (f.pages or 0) + 1)]
        return pdf_page_images, (source, pages)
    if kind == "poster":
        return poster_frame, (source, dest)
    if kind == "waveform":
        return waveform, (source, dest)
    return access_copy, (source, dest, "audio" if kind == "access-audio" else "video")


def _tasks(catalog: Catalog, options: DeriveOptions, report: DeriveReport, claims: Claims,
           only: list[int] | None = None) -> Iterator[Task]:
    """The derivatives to build, file by file, a page of candidates at a time: of each page,
    the files with something left to build are claimed (archive/claims.py), and only those
    this run holds are built here; other machines build the rest. A file with nothing left to
    build is done at once (it counts towards the progress); one with tasks is done when its
    last one settles. `only`: look at these files alone (work another machine gave back)."""
    base = catalog.settings.derivatives_dir
    planned: set[Path] = set()  # identical files share derivatives: build each once
    with catalog.session() as s:
        roots = {i: local_root(p, catalog.settings.root_mapping)
                 for i, p in s.execute(select(Root.id, Root.path))}
    # Files given back are counted where they were first seen.
    counting = report if only is None else DeriveReport()
    seen: set[int] = set()
    after = 0
    while True:
        query = _candidates(select(File)).order_by(File.id).limit(CLAIM_BATCH)
        query = query.where(File.id.in_(only)) if only is not None else query
        with catalog.session() as s:
            page = list(s.scalars(query.where(File.id > after)))
        if not page:
            break
        after = page[-1].id
        seen.update(f.id for f in page)
        todo: dict[int, list[Task]] = {}
        for f in page:
            tasks = _file_tasks(f, roots, base, planned, options, counting)
            if tasks:
                todo[f.id] = tasks
            elif only is None:
                report.done += 1
            else:
                claims.elsewhere.discard(f.id)  # built meanwhile: nothing to wait for
        for file_id in claims.take(list(todo)):
            yield from todo[file_id]
    if only is not None:  # no longer a candidate (changed, forgotten): nothing to wait for
        claims.elsewhere -= set(only) - seen


def _file_tasks(f: File, roots: dict[int, str], base: Path, planned: set[Path],
                options: DeriveOptions, report: DeriveReport) -> list[Task]:
    tech = f.tech or {}
    kinds = wanted(f.mime, tech.get("kind"), f.format, tech, options.access_copies)
    if kinds:
        report.files += 1
    source = filesystem_path(roots[f.root_id], f.path, f.path_raw)
    todo = []
    for kind in kinds:
        if kind == "pages" and not f.pages:
            continue  # a PDF whose pages could not be counted has none to draw
        dest = _dest(base, f, kind)
        if dest in planned or (dest.exists() and not options.force):
            report.up_to_date += 1
            continue
        planned.add(dest)
        fn, args = _task_for(kind, f, source, str(dest), base)
        todo.append(Task(f.id, f.item_id, f.path, source, kind, str(dest), fn, args,
                         last=False))
    if todo:
        todo[-1] = replace(todo[-1], last=True)
    return todo


def _dest(base: Path, f: File, kind: str) -> Path:
    """Where a derivative goes; for a PDF's page images, the last page's: when it is there,
    the earlier ones are too (they are written in order)."""
    if kind == "pages":
        return page_image_path(base, f.sha256 or "", f.pages or 1)
    return derivative_path(base, f.sha256 or "", kind)


def _candidates(query: Select[Any]) -> Select[Any]:
    return query.where(File.role.in_(MAIN_ROLES), File.sha256.is_not(None),
                       File.size > 0)


def count_candidates(catalog: Catalog) -> int:
    """The files derive looks at: the progress bar's total (report.done counts the same)."""
    with catalog.session() as s:
        return s.scalar(_candidates(select(func.count(File.id)))) or 0


def derive(catalog: Catalog, options: DeriveOptions = DeriveOptions(),
           progress: Progress | None = None, in_process: bool = False) -> DeriveReport:
    """Build missing derivatives (all of them with force). Failures are reported per file.
    Ctrl-C raises Interrupted with the partial report; what was built is kept and recorded."""
    settings = catalog.settings
    report = DeriveReport()
    started = time.monotonic()
    events: list[dict[str, Any]] = []
    finished: list[int] = []  # files whose last task settled: their claims are done
    Path(settings.derivatives_dir).mkdir(parents=True, exist_ok=True)
    window = 1 if in_process else settings.worker_count * 4
    claims = Claims(catalog, "derive", settings.lease_seconds)
    try:
        with open_runner(in_process, settings.worker_count,
                         max(settings.file_timeout, DERIVE_TIMEOUT),
                         settings.worker_memory_mb) as runner, claims.heartbeat():
            only: list[int] | None = None
            while True:
                tasks = _tasks(catalog, options, report, claims, only)
                for task, outcome in in_order(runner, tasks,
                                              lambda t: runner.submit(t.fn, *t.args), window):
                    events.append(_event(task, outcome.value, outcome.failure, report))
                    if task.last:
                        report.done += 1
                        finished.append(task.file_id)
                    if progress is not None:
                        progress.update(report, task.path)  # type: ignore[arg-type]
                    if len(events) >= settings.batch_size:
                        _write_events(catalog, events, claims, finished)
                _write_events(catalog, events, claims, finished)
                # Files other machines held: wait until they are done, or take them back
                # when a machine that stopped lets its lease run out.
                only = claims.held_elsewhere()
                if not only:
                    break
                time.sleep(min(5.0, settings.lease_seconds / 3))
    except KeyboardInterrupt:
        raise Interrupted(report) from None
    finally:
        _write_events(catalog, events, claims, finished)
        claims.release()  # what this run claimed and did not build goes back at once
        report.seconds = time.monotonic() - started
    return report


def _event(task: Task, made: Derivative | None, failure: WorkerFailure | None,
           report: DeriveReport) -> dict[str, Any]:
    """The provenance event of one settled task; counts it in the report."""
    if made is None:
        reason = failure.reason if failure else "no result"
        report.failed.append({"path": task.path, "kind": task.kind, "reason": reason})
        return {"file_id": task.file_id, "item_id": task.item_id,
                "kind": "derivative creation", "outcome": "failure",
                "tool": task.fn.__name__, "detail": f"{task.kind}: {reason}"}
    report.built += 1
    return {"file_id": task.file_id, "item_id": task.item_id, "kind": "derivative creation",
            "outcome": "success", "tool": made.tool, "detail": f"{task.kind} {made.path}"}


def _write_events(catalog: Catalog, events: list[dict[str, Any]], claims: Claims,
                  finished: list[int]) -> None:
    """The settled tasks' events and the finished files' claims, in one transaction: a file
    is marked done exactly when its results are recorded."""
    if events or finished:
        with catalog.session() as s:
            if events:
                s.execute(insert(Event), list(events))
            claims.done(s, finished)
        events.clear()
        finished.clear()
