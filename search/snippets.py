"""Snippets and transcript moments, found by plain string search in folded text.

Whoosh's highlighter re-analyses a hit's whole text token by token (three quarters of a
query's time in profiles); folding once and searching for the query's own words is C-speed.

    match_patterns(Text("导弹研究"))            -> ["导弹研究"]
    match_patterns(And(Text("Rockets"), ...))  -> ["rocket"]        (stems match any ending)
    make_snippet("…關於導彈研究的報告…", ["导弹研究"]) -> "…關於<mark>導彈研究</mark>的報告…"
"""
from __future__ import annotations

import bisect
import functools
import html
import re
from typing import Any

from archive.han import HAN_RUN
from search.analysis import (
    _folded_chars,
    ascii_index_terms,
    cjk_terms,
    fold,
    index_terms,
    stem_word,
)
from search.query import And, Node, Or, Text

SNIPPET_CHARS = 160
MAX_SCAN_CHARS = 200_000
_HAN_RUN = HAN_RUN


def match_patterns(node: Node | None) -> list[str]:
    """Folded strings to look for: Han runs as written, English words as stems."""
    if isinstance(node, Text):
        folded = fold(node.value)
        out = _HAN_RUN.findall(folded)
        out += [stem_word(w) for w in re.findall(r"[0-9a-z\u00c0-\u024f]+", folded) if len(w) > 1]
        return out
    if isinstance(node, (And, Or)):
        return [p for n in node.nodes for p in match_patterns(n)]
    return []  # fields, ranges and exclusions are not highlighted


def _folded_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, when folding changed its length, each character's origin."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None
    pairs = list(_folded_chars(text))
    return "".join(c for _, c in pairs), [o for o, _ in pairs]


def find_matches(text: str, patterns: list[str]) -> list[tuple[int, int]]:
    """(start, end) spans in `text` where any pattern occurs, in order, not overlapping."""
    if not patterns or not text:
        return []
    text = text[:MAX_SCAN_CHARS]
    folded, origin = _folded_with_offsets(text)
    regex = _pattern_regex(tuple(patterns))
    spans = []
    for m in regex.finditer(folded):
        start, end = m.start(), m.end()
        if origin is not None:
            start, end = origin[start], origin[end - 1] + 1
        spans.append((start, end))
    return spans


@functools.lru_cache(maxsize=256)
def _pattern_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a query's patterns, longest first (built once a query, not once a hit)."""
    return re.compile("|".join(re.escape(p) + (r"[0-9a-z]*" if p.isascii() else "")
                               for p in sorted(set(patterns), key=len, reverse=True)))


def make_snippet(text: str, patterns: list[str], width: int = SNIPPET_CHARS) -> str:
    """The window of `text` holding the most matches, HTML-escaped, matches in <mark>."""
    spans = find_matches(text, patterns)
    if not spans:
        return ""
    # Spans are in order and do not overlap, so the matches in the window starting at span i
    # are those from i up to the first starting past it: a binary search, not a scan of the
    # rest (a common word in a long text matches hundreds of times).
    starts = [s for s, _ in spans]
    best, best_count = 0, 0
    for i, start in enumerate(starts):
        count = bisect.bisect_left(starts, start + width, lo=i) - i
        if count > best_count:
            best, best_count = i, count
    start = max(0, spans[best][0] - width // 4)
    end = min(len(text), start + width)
    out, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(text[pos:end]))
    body = "".join(out).replace("\n", " ")
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def cue_terms(node: Node | None) -> set[str]:
    """The index terms of the query's highlighted words: what a transcript cue is scored by."""
    return {stem_word(t) if t.isascii() else t
            for t in (term for p in match_patterns(node)
                      for term, _, _ in cjk_terms(p, trailing_unigram=False))}


def best_cue(cues: list[list[Any]], node: Node | None) -> float | None:
    """Start (s) of the cue holding most of the query's terms: where the words are said."""
    wanted = cue_terms(node)
    if not wanted:
        return None
    # A text's terms other than ASCII words (stemmed) are pieces of its folded text when
    # folding keeps its length (index_terms): a cue holding none of such wanted terms scores
    # nothing, and is passed over without cutting it into terms (half of best_cue's time for
    # a Chinese query, #14).
    # A query of English words alone needs only a cue's English words (ascii_index_terms).
    english = all(t.isascii() for t in wanted)
    pieces = not any(t.isascii() for t in wanted)
    best, best_score = None, 0
    for start, _end, text in cues:
        if english:
            score = len(wanted.intersection(ascii_index_terms(text)))
        else:
            if pieces:
                folded = fold(text)
                if len(folded) == len(text) and not any(t in folded for t in wanted):
                    continue
            # index_terms is cjk_terms with ASCII words stemmed, the same terms (a test holds
            # the two equal), in C where it can: every cue of every audio hit is read at each
            # query.
            score = len(wanted.intersection(index_terms(text)))
        if score > best_score:
            best, best_score = float(start), score
    return best
