"""`archive ocr`: machine-read the page images and scanned PDF pages of letters, manuscripts and
documents, page by page in isolated workers, each page stored as it is read (so a killed run
loses at most the pages in flight, and a re-run reads each remaining page once).

Stages: claim (the chosen items' main files with pages not yet read with the same engine and
model, a batch at a time, through archive/claims.py: several runs, on one machine or several,
share the work and each file is read by one of them) -> read (media.ocr.read_page in a worker:
time limit, memory cap) -> store (one transaction per page: its row and lines; on a file's last
page also its `metadata extraction` event, the item's change-log entry, so the search index
catches up, and the file's claim marked done).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.changes import record_changes
from archive.claims import Claims
from archive.derivatives import page_image_path
from archive.errors import Interrupted, UsageError
from archive.events import EXTRACTION, event_row, record_events
from archive.fields import MAIN_ROLES, MATERIAL_TYPES, type_word
from archive.models import File, Item, OcrLine, OcrPage, Root
from archive.paths import filesystem_path, local_root
from ingest.report import Progress
from ingest.workers import WorkerFailure, check_interrupt, in_order, open_runner

log = logging.getLogger(__name__)

DEFAULT_TYPES: tuple[str, ...] = ("letter", "manuscript", "document")
ENGINE_FAMILY = "rapidocr"  # a page read by this engine with the same models is not read again
READ, FAILED, TEXT_LAYER = "read", "failed", "text-layer"
CLAIM_KIND = "ocr"  # the work claims' kind (archive/claims.py)
CANDIDATES = 200  # candidate files looked at per query (a few of them claimed at a time)


@dataclass(frozen=True)
class OcrOptions:
    types: tuple[str, ...] = DEFAULT_TYPES
    force: bool = False
    limit: int | None = None  # read at most this many pages
    max_seconds: float | None = None  # start no page after this many seconds
    by: str | None = None  # the agent recorded on events


@dataclass(frozen=True)
class PageTask:
    file_id: int
    item_id: int
    path: str  # catalog path, for reports
    source: str  # where to open it
    page: int  # 1-based
    pdf: bool
    page_image: str | None  # a PDF page's image (derivative), drawn when missing
    last: bool  # the file's last page in this plan: its event is written then


@dataclass
class OcrReport:
    pages: int = 0  # pages read in this run (PDF pages with their own text layer not counted)
    lines: int = 0
    characters: int = 0
    skipped: int = 0  # pages already read with this engine and model, or with a text layer
    problems: list[dict[str, Any]] = field(default_factory=list)  # {path, page, reason}
    seconds: float = 0.0
    planned: int = 0  # pages to read: the progress bar's total
    done: int = 0  # pages settled (read, failed or found to have a text layer)
    stopped: str | None = None  # "limit" or "max-seconds" when the run stopped early

    @property
    def pages_per_second(self) -> float | None:
        return round(self.pages / self.seconds, 3) if self.seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {"pages": self.pages, "lines": self.lines, "characters": self.characters,
                "skipped": self.skipped, "problems": self.problems,
                "seconds": round(self.seconds, 3), "pages_per_second": self.pages_per_second}


def parse_types(words: Sequence[str]) -> tuple[str, ...]:
    """`--type` values (English or Chinese type words) -> material types; none given means the
    default (letters, manuscripts, documents).

    parse_types([])                       -> ("letter", "manuscript", "document")
    parse_types(["photograph", "手稿"])    -> ("photograph", "manuscript")
    parse_types(["audio"])                -> UsageError (nothing to read in a recording)
    """
    if not words:
        return DEFAULT_TYPES
    out: list[str] = []
    for word in words:
        material = type_word(word)
        if material is None:
            raise UsageError(f"unknown type {word!r}; use one of {', '.join(MATERIAL_TYPES)}")
        if material in ("audio", "video"):
            raise UsageError(f"{material} items have no pages to read; OCR reads letters, "
                             "manuscripts, documents, photographs and other scans")
        if material not in out:
            out.append(material)
    return tuple(out)


def page_count(tech_kind: str | None, pages: int | None) -> int:
    """How many pages a main file has for the OCR: an image's frames (a multi-page TIFF) or a
    PDF's pages; 0 when it has none to read.

    page_count("image", None) -> 1;  page_count("image", 3) -> 3;  page_count("pdf", 12) -> 12
    page_count("pdf", None)   -> 0 (its pages could not be counted at ingest)
    page_count("audio", None) -> 0
    """
    if tech_kind == "image":
        return max(1, pages or 1)
    if tech_kind == "pdf":
        return pages or 0
    return 0


def _candidates(options: OcrOptions) -> Select[Any]:
    """The main files of the chosen items that may have pages to read."""
    return (select(File).join(Item, File.item_id == Item.id)
            .where(Item.type.in_(options.types), Item.withdrawn_at.is_(None),
                   File.role.in_(MAIN_ROLES), File.sha256.is_not(None), File.size > 0,
                   or_(File.status.is_(None), File.status != "missing")))


def _already_read(s: Session, model: str, file_ids: Sequence[int] | None = None,
                  since: dt.datetime | None = None) -> set[tuple[int, int]]:
    """(file id, page) of the pages this engine has read with these models, or that keep their
    own text layer: what a run skips (unless forced: then only those read since `since`, by
    this run or another machine's of the same round). Of these files only, when given."""
    query = select(OcrPage.file_id, OcrPage.page).where(
        OcrPage.status.in_((READ, TEXT_LAYER)), OcrPage.model == model,
        OcrPage.engine.like(f"{ENGINE_FAMILY}%"))
    if file_ids is not None:
        query = query.where(OcrPage.file_id.in_(list(file_ids)))
    if since is not None:
        query = query.where(OcrPage.read_at >= since)
    return {(file_id, page) for file_id, page in s.execute(query)}


def survey(catalog: Catalog, options: OcrOptions, model: str, report: OcrReport) -> None:
    """Count the pages to read (the progress bar's total, at most `--limit`) and the pages
    skipped as already read, before any is claimed."""
    with catalog.session() as s:
        done = set() if options.force else _already_read(s, model)
        for f in s.scalars(_candidates(options).execution_options(yield_per=500)):
            count = page_count((f.tech or {}).get("kind"), f.pages)
            todo = sum(1 for n in range(1, count + 1) if (f.id, n) not in done)
            report.skipped += count - todo
            report.planned += todo
    if options.limit is not None:
        report.planned = min(report.planned, options.limit)


def _pending(f: File, done: set[tuple[int, int]]) -> list[int]:
    count = page_count((f.tech or {}).get("kind"), f.pages)
    return [n for n in range(1, count + 1) if (f.id, n) not in done]


def _claimed_pages(catalog: Catalog, options: OcrOptions, model: str, claims: Claims,
                   report: OcrReport, only: list[int] | None = None) -> Iterator[PageTask]:
    """The pages this run reads. Candidate files are looked at a page of CANDIDATES at a time;
    those with pages left to read are claimed (archive/claims.py) a few at a time, as the
    workers need them (pages are slow: a small claim leaves the rest to other runs), and only
    those this run holds are read here. Which pages are left is looked at again once a file is
    ours: a run that died holding it may have stored some. `only`: look at these files alone
    (work another run held when first seen)."""
    base = catalog.settings.derivatives_dir
    since = claims.started if options.force else None
    claim_size = max(2, catalog.settings.worker_count * 2)
    with catalog.session() as s:
        roots = {i: local_root(p, catalog.settings.root_mapping)
                 for i, p in s.execute(select(Root.id, Root.path))}
    seen: set[int] = set()
    after = 0
    while True:
        query = _candidates(options).where(File.id > after).order_by(File.id).limit(CANDIDATES)
        if only is not None:
            query = query.where(File.id.in_(only))
        with catalog.session() as s:
            files = list(s.scalars(query))
            s.expunge_all()
            done = _already_read(s, model, [f.id for f in files], since)
        if not files:
            break
        after = files[-1].id
        seen.update(f.id for f in files)
        waiting = {f.id: (f, len(_pending(f, done))) for f in files if _pending(f, done)}
        if only is not None:
            claims.elsewhere -= {f.id for f in files} - set(waiting)  # read meanwhile
        ids = list(waiting)
        for at in range(0, len(ids), claim_size):
            yield from _take(catalog, ids[at:at + claim_size], waiting, claims, model, since,
                             base, roots, report, counted=only is None)
    if only is not None:  # no longer a candidate (withdrawn, forgotten): nothing to wait for
        claims.elsewhere -= set(only) - seen


def _take(catalog: Catalog, ids: list[int], waiting: dict[int, tuple[File, int]],
          claims: Claims, model: str, since: dt.datetime | None, base: Path, roots: dict[int, str],
          report: OcrReport, counted: bool) -> Iterator[PageTask]:
    """Claim these files (`waiting`: each with its count of pages left when looked at) and
    give the pages of those now ours. `counted`: their pages are in the run's total already
    (the survey's), so files another run holds come off it; else (files taken back) those
    taken go on it."""
    taken = claims.take(ids)
    with catalog.session() as s:
        done = _already_read(s, model, taken, since)
    if counted:
        report.planned -= sum(waiting[i][1] for i in ids if i not in taken)
    finished = []
    for file_id in taken:
        f, seen = waiting[file_id]
        todo = _pending(f, done)
        report.planned += len(todo) - (seen if counted else 0)
        if not todo:  # read by another run since we looked: nothing left to hold
            finished.append(file_id)
            continue
        kind = (f.tech or {}).get("kind")
        source = filesystem_path(roots[f.root_id], f.path, f.path_raw)
        for n in todo:
            image = str(page_image_path(base, f.sha256 or "", n)) if kind == "pdf" else None
            yield PageTask(f.id, f.item_id, f.path, source, n, kind == "pdf", image,
                           last=n == todo[-1])
    if finished:
        with catalog.session() as s:
            claims.done(s, finished)


@dataclass
class _FileTally:
    """What one file's pages gave in this run, for its provenance event."""
    item_id: int
    pages: int = 0
    lines: int = 0
    failed: int = 0
    text_layer: int = 0


def ocr(catalog: Catalog, options: OcrOptions = OcrOptions(), progress: Progress | None = None,
        in_process: bool = False) -> OcrReport:
    """Read the pages of the chosen items not yet read. Each page is stored as soon as it is
    read. Several runs may work at once, on one machine or several against one catalog: each
    reads the files it claims, and waits at the end for files others hold (taking them back
    if their holder stops). Ctrl-C raises Interrupted with the partial report; what was read
    is kept, and what this run claimed and did not finish is given back."""
    from media.ocr import engine_name, model_name  # the engine's modules load on use only
    settings = catalog.settings
    report = OcrReport()
    started = time.monotonic()
    engine, model = engine_name(), model_name()
    survey(catalog, options, model, report)
    tallies: dict[int, _FileTally] = {}
    window = 1 if in_process else settings.worker_count * 2
    claims = Claims(catalog, CLAIM_KIND, settings.lease_seconds)
    try:
        with open_runner(in_process, settings.worker_count, settings.file_timeout,
                         settings.worker_memory_mb) as runner, claims.heartbeat():
            from media.ocr import read_page
            only: list[int] | None = None
            while True:
                tasks = _until(_claimed_pages(catalog, options, model, claims, report, only),
                               started, options, report)
                for task, outcome in in_order(
                        runner, tasks,
                        lambda t: runner.submit(read_page, t.source, t.page, t.pdf,
                                                t.page_image),
                        window):
                    tally = tallies.setdefault(task.file_id, _FileTally(task.item_id))
                    _store(catalog, task, outcome.value, outcome.failure, engine, model,
                           report, tally, claims, options.by)
                    if task.last:
                        tallies.pop(task.file_id)
                    report.done += 1
                    if progress is not None:
                        progress.update(report, task.path)  # type: ignore[arg-type]
                if report.stopped:
                    break
                # Files other runs held: wait until they are read, or take them back when a
                # run that stopped lets its lease run out.
                only = claims.held_elsewhere()
                if not only:
                    break
                _wait(min(5.0, settings.lease_seconds / 3))
    except KeyboardInterrupt:
        raise Interrupted(report) from None
    finally:
        for file_id, tally in tallies.items():  # files left part-read: their pages so far
            with catalog.session() as s:
                _close_file(s, file_id, tally, engine, model, options.by)
        claims.release()  # what this run claimed and did not read goes back at once
        report.seconds = time.monotonic() - started
    return report


def _wait(seconds: float) -> None:
    """Sleep while other runs finish their files, answering Ctrl-C at once."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check_interrupt()
        time.sleep(0.1)


def _until(tasks: Iterator[PageTask], started: float, options: OcrOptions,
           report: OcrReport) -> Iterator[PageTask]:
    """The tasks, until `--max-seconds` have passed or `--limit` pages were given out: pages
    already started are finished and stored, no new one begins (nor is a file claimed)."""
    for given, task in enumerate(tasks, start=1):
        if options.max_seconds is not None and \
                time.monotonic() - started >= options.max_seconds:
            report.stopped = "max-seconds"
            return
        yield task
        if options.limit is not None and given >= options.limit:
            report.stopped = "limit"
            return


def _store(catalog: Catalog, task: PageTask, read: Any, failure: WorkerFailure | None,
           engine: str, model: str, report: OcrReport, tally: _FileTally, claims: Claims,
           by: str | None) -> None:
    """One page's outcome, in one transaction: a re-run never sees half a page. On the file's
    last page the same transaction closes the file (its event, its change, its claim done),
    so a run killed between two pages leaves each page either stored and accounted or not
    read."""
    row: dict[str, Any] = {"file_id": task.file_id, "page": task.page, "engine": engine,
                           "model": model}
    lines: list[dict[str, Any]] = []
    if read is None:
        reason = failure.reason if failure else "no result"
        report.problems.append({"path": task.path, "page": task.page, "reason": reason})
        tally.failed += 1
        row.update(status=FAILED, error=reason)
    elif read.text_layer:
        report.skipped += 1
        tally.text_layer += 1
        row.update(status=TEXT_LAYER)
    else:
        report.pages += 1
        report.lines += len(read.lines)
        report.characters += sum(len(line.text) for line in read.lines)
        tally.pages += 1
        tally.lines += len(read.lines)
        row.update(status=READ, width=read.width, height=read.height, rotation=read.rotation,
                   seconds=round(read.seconds, 3))
        lines = [{"line_no": n, "text": line.text, "x": line.x, "y": line.y, "w": line.w,
                  "h": line.h, "confidence": line.confidence}
                 for n, line in enumerate(read.lines, start=1)]
    with catalog.session() as s:
        s.execute(delete(OcrPage).where(OcrPage.file_id == task.file_id,
                                        OcrPage.page == task.page))
        page = OcrPage(**row)
        page.lines = [OcrLine(**line) for line in lines]
        s.add(page)
        if task.last:
            s.flush()
            _close_file(s, task.file_id, tally, engine, model, by)
            claims.done(s, [task.file_id])


def _close_file(s: Session, file_id: int, tally: _FileTally, engine: str, model: str,
                by: str | None) -> None:
    """A file's pages are settled for this run: its provenance event, and the item marked
    changed so the search index reads its new text."""
    if tally.pages + tally.failed + tally.text_layer == 0:
        return
    detail = (f"OCR ({model}): {tally.pages} page{'s' if tally.pages != 1 else ''} read, "
              f"{tally.lines} line{'s' if tally.lines != 1 else ''}")
    if tally.text_layer:
        detail += f", {tally.text_layer} with their own text layer"
    if tally.failed:
        detail += f", {tally.failed} failed"
    record_events(s, [event_row(EXTRACTION, item_id=tally.item_id, file_id=file_id,
                                agent=by, tool=engine, detail=detail,
                                outcome="failure" if tally.failed and not tally.pages
                                else "success")])
    if tally.pages:
        record_changes(s, {tally.item_id})


__all__ = ["DEFAULT_TYPES", "OcrOptions", "OcrReport", "PageTask", "ocr", "page_count",
           "parse_types", "survey"]
