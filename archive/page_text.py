"""An item's pages as a reader turns them (its page scans and PDF pages, in the order of its
IIIF canvases) and the machine-read lines on each: the one map from an item's page number to a
file and a page within it, and the one way a query finds lines on a page, shared by search
hits, the item page and IIIF.

Lines are joined into one page text the way the page reads: a line break between two Han
characters is no break in the words (a letter wraps mid-word), so 导 at the end of one line and
弹 at the start of the next are found as 导弹, and both lines are outlined.

    page_string(["我们研究导", "弹的问题"])   -> ("我们研究导弹的问题", [0, 5])
    page_string(["Hello", "world"])         -> ("Hello\\nworld", [0, 6])
    lines_matching(["我们研究导", "弹的问题"], ["导弹"]) -> [0, 1]
    lines_matching(["火箭", "卫星"], ["导弹"])            -> []
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from archive.errors import NotFound
from archive.fields import MAIN_ROLES
from archive.han import HAN

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from archive.access import Viewer
    from archive.models import File, Item

# The pages and their lines are plain data without the ORM: a command-line search reads them
# through archive.catalog_reader and must not import SQLAlchemy for them (a third of a second);
# the readers below import it when called, by then loaded by whoever holds a session.

READ = "read"  # an OcrPage read by the OCR (others failed, or kept their PDF text layer)


class FileLike(Protocol):
    id: int
    path: str
    role: str
    mime: str | None
    pages: int | None


@dataclass(frozen=True)
class PageRef:
    """Page `number` of an item (1-based) is page `file_page` of the file at `path`."""
    number: int
    file_id: int
    path: str
    file_page: int
    pdf: bool


@dataclass(frozen=True)
class Line:
    line_no: int
    text: str
    x: int
    y: int
    w: int
    h: int
    confidence: float | None


@dataclass(frozen=True)
class PageText:
    """What the OCR read on one page: lines in reading order, boxes in the pixels of a page
    image `width` × `height`."""
    page: PageRef
    width: int
    height: int
    engine: str
    model: str
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        return page_string([line.text for line in self.lines])[0]


@dataclass(frozen=True)
class PageMatch:
    """Where a query was found on a page: the indexes (in `page.lines`) of the lines holding
    it, and how good the page is (distinct patterns found, then matches)."""
    page: PageText
    lines: tuple[int, ...]
    score: tuple[int, int]


def item_pages(files: Iterable[FileLike]) -> list[PageRef]:
    """The item's pages: each main image file is one page (a multi-page TIFF one per frame),
    each main PDF its pages, in the order of the item's manifest (the master first, then by
    path)."""
    out: list[PageRef] = []
    for f in sorted((f for f in files if f.role in MAIN_ROLES),
                    key=lambda f: (f.role != "master", f.path)):
        mime = f.mime or ""
        if mime.startswith("image/"):
            for n in range(1, max(1, f.pages or 1) + 1):
                out.append(PageRef(len(out) + 1, f.id, f.path, n, False))
        elif mime == "application/pdf":
            for n in range(1, (f.pages or 0) + 1):
                out.append(PageRef(len(out) + 1, f.id, f.path, n, True))
    return out


def page_string(lines: Sequence[str]) -> tuple[str, list[int]]:
    """The page's text and where each line starts in it: lines joined by a newline, except
    between two Han characters (see the module docstring)."""
    parts: list[str] = []
    starts: list[int] = []
    at = 0
    for text in lines:
        if parts and not (parts[-1] and text and HAN.match(parts[-1][-1]) and HAN.match(text[0])):
            parts.append("\n")
            at += 1
        starts.append(at)
        parts.append(text)
        at += len(text)
    return "".join(parts), starts


def _line_spans(lines: Sequence[str], patterns: list[str]) -> tuple[list[set[int]], set[str]]:
    """For each match on the page, the lines it covers; and which patterns were found."""
    from search.analysis import fold
    from search.snippets import find_matches
    text, starts = page_string(lines)
    ends = [s + len(t) for s, t in zip(starts, lines, strict=True)]
    covered: list[set[int]] = []
    found: set[str] = set()
    for start, end in find_matches(text, patterns):
        covered.append({i for i, (s, e) in enumerate(zip(starts, ends, strict=True))
                        if s < end and start < e})
        folded = fold(text[start:end])
        found |= {p for p in patterns if folded.startswith(p)}
    return covered, found


def lines_matching(lines: Sequence[str], patterns: list[str]) -> list[int]:
    """Indexes of the lines where any pattern occurs (a match across a line break marks both
    lines)."""
    covered, _ = _line_spans(lines, patterns)
    return sorted(set().union(*covered)) if covered else []


def best_match(pages: Iterable[PageText], patterns: list[str]) -> PageMatch | None:
    """The page that holds most of the query's patterns (then most matches, then the first),
    with its matching lines; None when no page holds any."""
    best: PageMatch | None = None
    for page in pages:
        covered, found = _line_spans([line.text for line in page.lines], patterns)
        if not covered:
            continue
        score = (len(found), len(covered))
        if best is None or score > best.score:
            best = PageMatch(page, tuple(sorted(set().union(*covered))), score)
    return best


def match_on(page: PageText, patterns: list[str]) -> PageMatch:
    covered, found = _line_spans([line.text for line in page.lines], patterns)
    lines = tuple(sorted(set().union(*covered))) if covered else ()
    return PageMatch(page, lines, (len(found), len(covered)))


def snippet_lines(match: PageMatch) -> str:
    """The text of the first run of matching lines (a word across a line break keeps both)."""
    first = match.lines[0]
    run = [first]
    while run[-1] + 1 in match.lines:
        run.append(run[-1] + 1)
    return page_string([match.page.lines[i].text for i in run])[0]


# -- reading them from the catalog -------------------------------------------------------------

def read_pages(s: Session, viewer: Viewer, item: Item) -> list[PageText]:
    """The pages of `item` the OCR read, in page order. The item must be one `viewer` may see:
    machine-read text is the item's content, and never leaves with anything else."""
    from archive.access import can_see
    if not can_see(viewer, item):
        raise NotFound(item.accession)
    return texts_of_files(s, {item.id: list(item.files)}).get(item.id, [])


def texts_by_item(s: Session, item_ids: Sequence[int]) -> dict[int, list[PageText]]:
    """item id -> its machine-read pages, for a batch of items (search documents and hits):
    access is the caller's (the index keeps restricted items, and filters them per query)."""
    from sqlalchemy import select

    from archive.models import File
    if not item_ids:
        return {}
    files: dict[int, list[File]] = {}
    for f in s.scalars(select(File).where(File.item_id.in_(item_ids))):
        files.setdefault(f.item_id, []).append(f)
    return texts_of_files(s, files)


def texts_of_files(s: Session, files: dict[int, list[File]]) -> dict[int, list[PageText]]:
    """item id -> its machine-read pages in page order, given each item's files. Plain rows,
    two queries for any number of items (a page of hits, a chunk of an index build)."""
    from sqlalchemy import select

    from archive.models import OcrLine, OcrPage
    return pages_from_rows(
        files,
        lambda file_ids: s.execute(
            select(OcrPage.id, OcrPage.file_id, OcrPage.page, OcrPage.width, OcrPage.height,
                   OcrPage.engine, OcrPage.model)
            .where(OcrPage.file_id.in_(file_ids), OcrPage.status == READ)),
        lambda page_ids: s.execute(
            select(OcrLine.page_id, OcrLine.line_no, OcrLine.text, OcrLine.x, OcrLine.y,
                   OcrLine.w, OcrLine.h, OcrLine.confidence)
            .where(OcrLine.page_id.in_(page_ids))
            .order_by(OcrLine.page_id, OcrLine.line_no)))


PageRows = Callable[[list[int]], Iterable[Any]]


def pages_from_rows(files: Mapping[int, Sequence[FileLike]], page_rows: PageRows,
                    line_rows: PageRows) -> dict[int, list[PageText]]:
    """item id -> its machine-read pages in page order, from each item's files and two
    readers of rows, whichever way they reach the catalog (the ORM session here, plain SQL in
    archive.catalog_reader): `page_rows(file ids)` gives the read pages' (id, file_id, page,
    width, height, engine, model), `line_rows(page ids)` their lines' (page_id, line_no, text,
    x, y, w, h, confidence) in page and line order."""
    refs: dict[tuple[int, int], tuple[int, PageRef]] = {}
    for item_id, fs in files.items():
        for p in item_pages(fs):
            refs[(p.file_id, p.file_page)] = (item_id, p)
    if not refs:
        return {}
    pages = {}
    for page_id, file_id, page, width, height, engine, model in page_rows(
            sorted({k[0] for k in refs})):
        if (file_id, page) in refs:
            pages[page_id] = (refs[(file_id, page)], width or 0, height or 0, engine, model)
    lines: dict[int, list[Line]] = {i: [] for i in pages}
    if pages:
        for page_id, line_no, text, x, y, w, h, confidence in line_rows(sorted(pages)):
            lines[page_id].append(Line(line_no, text, x, y, w, h, confidence))
    out: dict[int, list[PageText]] = {}
    for page_id, ((item_id, ref), width, height, engine, model) in pages.items():
        out.setdefault(item_id, []).append(PageText(ref, width, height, engine, model,
                                                    tuple(lines[page_id])))
    for texts in out.values():
        texts.sort(key=lambda p: p.page.number)
    return out
