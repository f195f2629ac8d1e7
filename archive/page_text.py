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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archive.access import Viewer, can_see
from archive.errors import NotFound
from archive.fields import MAIN_ROLES
from archive.han import HAN
from archive.models import File, Item, OcrPage

MACHINE_READ = "机器识别文字 Machine-read text"  # the label wherever OCR text is shown


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
    """The item's pages: each main image file is one page, each main PDF its pages, in the
    order of the item's manifest (the master first, then by path)."""
    out: list[PageRef] = []
    for f in sorted((f for f in files if f.role in MAIN_ROLES),
                    key=lambda f: (f.role != "master", f.path)):
        mime = f.mime or ""
        if mime.startswith("image/"):
            out.append(PageRef(len(out) + 1, f.id, f.path, 1, False))
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
    if not can_see(viewer, item):
        raise NotFound(item.accession)
    pages = item_pages(item.files)
    by_file_page = {(p.file_id, p.file_page): p for p in pages}
    if not by_file_page:
        return []
    rows = s.scalars(select(OcrPage).where(OcrPage.file_id.in_({p.file_id for p in pages}),
                                           OcrPage.status == "read")
                     .options(selectinload(OcrPage.lines)))
    out = [_page_text(row, by_file_page[(row.file_id, row.page)]) for row in rows
           if (row.file_id, row.page) in by_file_page]
    return sorted(out, key=lambda p: p.page.number)


def _page_text(row: OcrPage, ref: PageRef) -> PageText:
    return PageText(ref, row.width or 0, row.height or 0, row.engine, row.model,
                    tuple(Line(li.line_no, li.text, li.x, li.y, li.w, li.h, li.confidence)
                          for li in row.lines))


def texts_by_item(s: Session, item_ids: Sequence[int]) -> dict[int, list[PageText]]:
    """item id -> its machine-read pages, for a batch of items (search documents and hits):
    access is the caller's (the index keeps restricted items, and filters them per query)."""
    if not item_ids:
        return {}
    files: dict[int, list[File]] = {}
    for f in s.scalars(select(File).where(File.item_id.in_(item_ids))):
        files.setdefault(f.item_id, []).append(f)
    return texts_of_files(s, files)


def texts_of_files(s: Session, files: dict[int, list[File]]) -> dict[int, list[PageText]]:
    """item id -> its machine-read pages, given each item's files (already loaded)."""
    refs: dict[tuple[int, int], tuple[int, PageRef]] = {}
    for item_id, fs in files.items():
        for p in item_pages(fs):
            refs[(p.file_id, p.file_page)] = (item_id, p)
    out: dict[int, list[PageText]] = {}
    if not refs:
        return out
    rows = s.scalars(select(OcrPage).where(OcrPage.file_id.in_({k[0] for k in refs}),
                                           OcrPage.status == "read")
                     .options(selectinload(OcrPage.lines)))
    for row in rows:
        if (row.file_id, row.page) in refs:
            item_id, ref = refs[(row.file_id, row.page)]
            out.setdefault(item_id, []).append(_page_text(row, ref))
    for pages in out.values():
        pages.sort(key=lambda p: p.page.number)
    return out


def as_json(page: PageText, outlined: Sequence[int] = ()) -> dict[str, Any]:
    return {"page": page.page.number, "width": page.width, "height": page.height,
            "engine": page.engine, "model": page.model,
            "lines": [{"line": li.line_no, "text": li.text, "x": li.x, "y": li.y, "w": li.w,
                       "h": li.h, "confidence": li.confidence,
                       "matched": i in outlined} for i, li in enumerate(page.lines)]}
