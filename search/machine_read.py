"""Machine-read text (OCR) in search: indexed with the item beside the archivist's text, never
instead of it; a hit found only in it says so (`text_source` "ocr", the item's `page`), and its
snippet is the matching line. The archivist's text comes first: where both hold the query,
the snippet is the archivist's (`text_source` "catalog") and `page` still names the page of
the scan holding it, for the item page to open.

    hit_text(["钱学森致陈赓信"], [<page 2: "关于导弹研究">], ["导弹"])
        -> ("关于<mark>导弹</mark>研究", "ocr", 2)
    hit_text(["导弹研究的信"], [<page 2: "关于导弹研究">], ["导弹"])
        -> ("<mark>导弹</mark>研究的信", "catalog", 2)
    hit_text(["一封信"], [], ["导弹"])  -> ("", None, None)

A page of hits' machine-read pages come from the catalog through
archive.catalog_reader.CatalogReader.pages.
"""
from __future__ import annotations

from collections.abc import Sequence

from archive.page_text import PageText, best_match, snippet_lines
from search.snippets import make_snippet

TEXT_SOURCES = ("catalog", "ocr")  # where a hit's snippet comes from


def hit_text(catalog_texts: Sequence[str], pages: Sequence[PageText],
             patterns: list[str]) -> tuple[str, str | None, int | None]:
    """(snippet, text source, page): see the module docstring."""
    if not patterns:
        return "", None, None
    match = best_match(pages, patterns)
    page = match.page.page.number if match else None
    snippet = make_snippet("\n".join(catalog_texts), patterns)
    if snippet:
        return snippet, "catalog", page
    if match is not None:
        return make_snippet(snippet_lines(match), patterns), "ocr", page
    return "", None, None
