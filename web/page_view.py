"""The item page's page viewer: an item's pages (page scans, PDF pages rendered to images) one
at a time, the lines a query was found on outlined on the image, the page's machine-read text
beside it. `?q=` opens the page the query was found on (the one holding most of its words);
`?page=N` picks a page.

    chosen_page(5, requested=None, found=3)  -> 3
    chosen_page(5, requested=2, found=3)     -> 2
    chosen_page(5, requested=9, found=None)  -> 1   (no such page: the first)
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from markupsafe import Markup

from archive.page_text import PageRef, PageText, best_match, match_on
from archive.standards.iiif import SiteFiles

DISPLAY_WIDTH = 1000  # pixels of the page image shown beside its text (the zoom shows more)


@dataclass(frozen=True)
class Outline:
    """A line's box, in the coordinates of the SVG laid over the image (the OCR's pixels)."""
    x: int
    y: int
    w: int
    h: int
    matched: bool
    line: int  # index in the page's lines


@dataclass(frozen=True)
class PageView:
    ref: PageRef
    image: str | None  # the Image API id of the page's image, when the site can serve one
    width: int  # the image's size as served, or the OCR's page size
    height: int
    text: PageText | None
    matched: tuple[int, ...] = ()  # indexes of the lines holding the query
    patterns: tuple[str, ...] = ()

    @property
    def lines(self) -> list[tuple[Markup, bool]]:
        """Each machine-read line as HTML, the query's words in <mark>, and whether it holds
        the query (a word across a line break holds in both lines)."""
        if self.text is None:
            return []
        return [(marked(li.text, list(self.patterns)), i in self.matched)
                for i, li in enumerate(self.text.lines)]

    @property
    def outlines(self) -> list[Outline]:
        if self.text is None:
            return []
        return [Outline(li.x, li.y, li.w, li.h, i in self.matched, i)
                for i, li in enumerate(self.text.lines)]

    @property
    def display_size(self) -> str:
        """The Image API size asked for the shown image: its own width, at most DISPLAY_WIDTH."""
        return f"{min(self.width, DISPLAY_WIDTH)},"


@dataclass(frozen=True)
class Pages:
    pages: list[PageView]
    current: PageView | None
    found_on: list[int]  # page numbers where the query was found

    @property
    def shown(self) -> bool:
        return self.current is not None


def marked(text: str, patterns: list[str]) -> Markup:
    """The text escaped, each match of the patterns in <mark>.

        marked("关于<导弹>研究", ["导弹"]) -> "关于&lt;<mark>导弹</mark>&gt;研究"
    """
    from search.snippets import find_matches
    out, pos = [], 0
    for start, end in find_matches(text, patterns) if patterns else []:
        out += [html.escape(text[pos:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        pos = end
    out.append(html.escape(text[pos:]))
    return Markup("".join(out))


def chosen_page(count: int, requested: int | None, found: int | None) -> int:
    if requested is not None and 1 <= requested <= count:
        return requested
    return found or 1


def page_views(accession: str, refs: list[PageRef], texts: list[PageText], site: SiteFiles,
               sha256: dict[str, str], patterns: list[str],
               requested: int | None) -> Pages:
    """The pages of an item the viewer can show (an image the site serves, or machine-read
    text), the one to open, and where the query was found."""
    by_number = {t.page.number: t for t in texts}
    views: list[PageView] = []
    for ref in refs:
        text = by_number.get(ref.number)
        picture = site.pdf_pages.get(ref.path, {}).get(ref.file_page) if ref.pdf \
            else site.frames[ref.path].get(ref.file_page) if ref.path in site.frames \
            else site.images.get(ref.path)
        if picture is None and text is None:
            continue
        width, height = (picture.width, picture.height) if picture else \
            (text.width, text.height) if text else (0, 0)
        ident = picture.id if picture else None
        views.append(PageView(ref, ident, width, height, text))
    # The viewer is for pages with something to show beyond the files list: machine-read
    # text, or PDF pages rendered to images, or the frames of a multi-page TIFF.
    if not any(v.text is not None or ((v.ref.pdf or v.ref.path in site.frames) and v.image)
               for v in views):
        return Pages([], None, [])
    found_on: list[int] = []
    best = None
    if patterns:
        best = best_match(texts, patterns)
        found_on = [t.page.number for t in texts if match_on(t, patterns).lines]
    numbers = [v.ref.number for v in views]
    want = chosen_page(max(numbers), requested, best.page.page.number if best else None)
    current = next((v for v in views if v.ref.number == want), views[0])
    if current.text is not None and patterns:
        current = PageView(current.ref, current.image, current.width, current.height,
                           current.text, match_on(current.text, patterns).lines,
                           tuple(patterns))
    views = [current if v.ref.number == current.ref.number else v for v in views]
    return Pages(views, current, found_on)
