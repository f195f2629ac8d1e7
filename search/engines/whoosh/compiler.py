"""The query tree's building blocks as Whoosh queries (search.compile decides how they are
combined; the rules are the same for both engines)."""
from __future__ import annotations

from collections.abc import Callable

from whoosh import query as wq

from archive.errors import QueryError
from search.analysis import query_terms, query_words


class Compiler:
    """Whoosh queries for search.compile.compile_tree. `is_key` says whether a term is in the
    index's scientist field (names are tried only when they are)."""

    def __init__(self, is_key: Callable[[str], bool]):
        self.is_key = is_key

    def term(self, field: str, value: str) -> wq.Query:
        return wq.Term(field, value)

    def any_of(self, field: str, values: list[str]) -> wq.Query:
        return wq.Or([wq.Term(field, v) for v in values])

    def all_of(self, parts: list[wq.Query]) -> wq.Query:
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def either(self, parts: list[wq.Query]) -> wq.Query:
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    def match_all(self) -> wq.Query:
        return wq.Every()

    def everything_but(self, q: wq.Query) -> wq.Query:
        return wq.AndNot(wq.Every(), q)

    def combine(self, must: list[wq.Query], must_not: list[wq.Query]) -> wq.Query:
        """Every `must` query, none of the `must_not` ones (everything when `must` is empty)."""
        if not must_not:
            return self.all_of(must) if must else wq.Every()
        return wq.And([*(must or [wq.Every()]), *[wq.Not(q) for q in must_not]])

    def text(self, field: str, value: str, phrase: bool) -> wq.Query | None:
        """Bigram/word terms of `value` in one field: a phrase keeps them in order, free words
        only need all of them. A single Han character is found by prefix (search.analysis)."""
        terms = query_terms(value)
        if not terms:
            return None
        if len(terms) == 1:
            t = terms[0]
            if len(t) == 1 and not t.isascii():
                return wq.Prefix(field, t)
            return wq.Term(field, t)
        if phrase:
            return wq.Phrase(field, terms)
        # Unquoted Chinese needs every overlapping bigram (导弹研究: 导弹 弹研 研究), which
        # pins the characters together in practice at a fraction of a phrase query's cost;
        # quotes make it exact.
        return wq.And([wq.Term(field, t) for t in terms])

    def words(self, value: str) -> wq.Query | None:
        """jieba's words of the value, all required: a second way in beside the bigrams."""
        terms = query_words(value)
        if not terms:
            return None
        return wq.Term("words", terms[0]) if len(terms) == 1 else \
            wq.And([wq.Term("words", t) for t in terms])

    def free_text(self, value: str, phrase: bool, field: str) -> wq.Query:
        required = self.text(field, value, phrase)
        if required is None:
            raise QueryError(f"nothing searchable in {value!r}: use letters, numbers or "
                             "characters")
        return required

    def ranked_text(self, value: str, phrase: bool) -> wq.Query:
        """Content decides what matches; title and jieba words only add to the score. An Or
        over the three made Whoosh preload every posting list into union arrays (half a
        query's time in profiles)."""
        required = self.free_text(value, phrase, "content")
        boosts = [q for q in (self.text("title", value, phrase),
                              None if phrase else self.words(value)) if q is not None]
        return wq.AndMaybe(required, wq.Or(boosts)) if boosts else required

    def names(self, keys: list[str]) -> wq.Query | None:
        found = [k for k in keys if self.is_key(k)]
        return self.any_of("scientist", found) if found else None

    def year_range(self, low: int | None, high: int | None, max_terms: int) -> wq.Query:
        if low is not None and high is not None and high - low < max_terms:
            # A bounded range is the years it names: a small union of selective terms, where
            # two numeric ranges (start before the end, end after the start) each match most
            # of the index before they are intersected (docs/PERFORMANCE.md).
            return self.any_of("years", [str(y) for y in range(low, high + 1)])
        parts = []
        if high is not None:
            parts.append(wq.NumericRange("year_start", None, high))
        if low is not None:
            parts.append(wq.NumericRange("year_end", low, None))
        return self.all_of(parts)

    def int_range(self, field: str, low: int | None, high: int | None) -> wq.Query:
        return wq.NumericRange(field, low, high)
