"""`archive ocr`: machine-read the page images and scanned PDF pages of letters, manuscripts and
documents, page by page in isolated workers, each page stored as it is read (so a killed run
loses at most the pages in flight, and a re-run reads each remaining page once).

Stages: plan (the pages of the chosen items' main files, less those already read with the same
engine and model) -> read (media.ocr.read_page in a worker: time limit, memory cap) -> store
(one transaction per page: its row and lines; on a file's last page, its `metadata extraction`
event and the item's change-log entry, so the search index catches up).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select

from archive.catalog import Catalog
from archive.changes import record_changes
from archive.derivatives import page_image_path
from archive.errors import CatalogBusy, Interrupted, UsageError
from archive.events import EXTRACTION, event_row, record_events
from archive.fields import MAIN_ROLES, MATERIAL_TYPES, type_word
from archive.lock import writer_lock
from archive.models import File, Item, OcrLine, OcrPage, Root
from archive.paths import filesystem_path
from ingest.report import Progress
from ingest.workers import WorkerFailure, in_order, open_runner

log = logging.getLogger(__name__)

DEFAULT_TYPES: tuple[str, ...] = ("letter", "manuscript", "document")
ENGINE_FAMILY = "rapidocr"  # a page read by this engine with the same models is not read again
READ, FAILED, TEXT_LAYER = "read", "failed", "text-layer"
RUN_KIND = "ocr"  # the lock's name


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


def _already_read(catalog: Catalog, model: str) -> set[tuple[int, int]]:
    """(file id, page) of the pages this engine has read with these models, or that keep their
    own text layer: what a run skips unless forced."""
    with catalog.session() as s:
        rows = s.execute(select(OcrPage.file_id, OcrPage.page).where(
            OcrPage.status.in_((READ, TEXT_LAYER)), OcrPage.model == model,
            OcrPage.engine.like(f"{ENGINE_FAMILY}%")))
        return {(file_id, page) for file_id, page in rows}


def plan(catalog: Catalog, options: OcrOptions, report: OcrReport,
         model: str) -> list[PageTask]:
    """The pages to read, file by file in catalog order, pages in order."""
    done = set() if options.force else _already_read(catalog, model)
    base = catalog.settings.derivatives_dir
    tasks: list[PageTask] = []
    with catalog.session() as s:
        roots = dict(s.execute(select(Root.id, Root.path)).all())
        query = (select(File).join(Item, File.item_id == Item.id)
                 .where(Item.type.in_(options.types), Item.withdrawn_at.is_(None),
                        File.role.in_(MAIN_ROLES), File.sha256.is_not(None), File.size > 0,
                        or_(File.status.is_(None), File.status != "missing"))
                 .order_by(File.id).execution_options(yield_per=500))
        for f in s.scalars(query):
            kind = (f.tech or {}).get("kind")
            count = page_count(kind, f.pages)
            todo = [n for n in range(1, count + 1) if (f.id, n) not in done]
            report.skipped += count - len(todo)
            source = filesystem_path(roots[f.root_id], f.path, f.path_raw)
            for n in todo:
                image = str(page_image_path(base, f.sha256 or "", n)) if kind == "pdf" else None
                tasks.append(PageTask(f.id, f.item_id, f.path, source, n, kind == "pdf", image,
                                      last=n == todo[-1]))
    return tasks


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
    """Read the pages `plan` finds. Each page is stored as soon as it is read. Ctrl-C raises
    Interrupted with the partial report; what was read is kept. One run per catalog at a time
    (CatalogBusy otherwise): two would read the same pages."""
    try:
        with writer_lock(catalog, RUN_KIND):
            return _ocr(catalog, options, progress, in_process)
    except CatalogBusy:
        raise CatalogBusy("another `archive ocr` is running on this catalog; wait for it to "
                          "finish") from None


def _ocr(catalog: Catalog, options: OcrOptions, progress: Progress | None,
         in_process: bool) -> OcrReport:
    from media.ocr import engine_name, model_name  # the engine's modules load on use only
    settings = catalog.settings
    report = OcrReport()
    started = time.monotonic()
    engine, model = engine_name(), model_name()
    tasks = plan(catalog, options, report, model)
    if options.limit is not None:
        tasks = _limited(tasks, options.limit)
    report.planned = len(tasks)
    tallies: dict[int, _FileTally] = {}
    window = 1 if in_process else settings.worker_count * 2
    try:
        with open_runner(in_process, settings.worker_count, settings.file_timeout,
                         settings.worker_memory_mb) as runner:
            from media.ocr import read_page
            submitted = _until(tasks, started, options.max_seconds, report)
            for task, outcome in in_order(
                    runner, submitted,
                    lambda t: runner.submit(read_page, t.source, t.page, t.pdf, t.page_image),
                    window):
                tally = tallies.setdefault(task.file_id, _FileTally(task.item_id))
                _store(catalog, task, outcome.value, outcome.failure, engine, model, report,
                       tally)
                if task.last:
                    _close_file(catalog, task.file_id, tallies.pop(task.file_id), engine,
                                model, options.by)
                report.done += 1
                if progress is not None:
                    progress.update(report, task.path)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        raise Interrupted(report) from None
    finally:
        for file_id, tally in tallies.items():  # files left part-read: their pages so far
            _close_file(catalog, file_id, tally, engine, model, options.by)
        report.seconds = time.monotonic() - started
    return report


def _limited(tasks: list[PageTask], limit: int) -> list[PageTask]:
    """The first `limit` pages; the last one kept closes its file's event."""
    kept = tasks[:limit]
    if kept and not kept[-1].last:
        from dataclasses import replace
        kept[-1] = replace(kept[-1], last=True)
    return kept


def _until(tasks: list[PageTask], started: float, max_seconds: float | None,
           report: OcrReport) -> Iterator[PageTask]:
    """The tasks, until `max_seconds` have passed: pages already started are finished and
    stored, no new one begins."""
    for task in tasks:
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            report.stopped = "max-seconds"
            return
        yield task


def _store(catalog: Catalog, task: PageTask, read: Any, failure: WorkerFailure | None,
           engine: str, model: str, report: OcrReport, tally: _FileTally) -> None:
    """One page's outcome, in one transaction: a re-run never sees half a page."""
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


def _close_file(catalog: Catalog, file_id: int, tally: _FileTally, engine: str, model: str,
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
    with catalog.session() as s:
        record_events(s, [event_row(EXTRACTION, item_id=tally.item_id, file_id=file_id,
                                    agent=by, tool=engine, detail=detail,
                                    outcome="failure" if tally.failed and not tally.pages
                                    else "success")])
        if tally.pages:
            record_changes(s, {tally.item_id})


__all__ = ["DEFAULT_TYPES", "OcrOptions", "OcrReport", "PageTask", "ocr", "page_count",
           "parse_types", "plan"]
