"""The Whoosh schema and analyzers: the shared analysis (search.analysis) wrapped as Whoosh
tokenizers, fields derived from the field registry so index, queries and exports agree."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh import fields as wf
from whoosh.analysis import Filter, Token, Tokenizer

from archive.fields import SEARCH_FIELDS
from search.analysis import cjk_terms, stem_word, word_terms


class CjkBigramTokenizer(Tokenizer):
    """Bigram tokens for Han text and words for the rest, positions in sequence."""

    def __init__(self, trailing_unigram: bool = True):
        self.trailing_unigram = trailing_unigram

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CjkBigramTokenizer) and \
            other.trailing_unigram == self.trailing_unigram

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,  # type: ignore[no-untyped-def]
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        # A query keeps its last character inside a bigram; only documents need the unigram.
        unigram = self.trailing_unigram and mode != "query"
        for pos, (term, start, end) in enumerate(cjk_terms(value, unigram)):
            t.text = term
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = term
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar, t.endchar = start_char + start, start_char + end
            yield t


class JiebaWordTokenizer(Tokenizer):
    """jieba's search-mode words for Han runs (an addition to the bigrams, never instead)."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,  # type: ignore[no-untyped-def]
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for word in word_terms(value):
            t.text, t.boost, t.stopped = word, 1.0, False
            if positions:
                t.pos = pos
            pos += 1
            yield t


class AsciiStemFilter(Filter):
    """English stemming for ASCII words only: Han bigrams pass untouched and uncached."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AsciiStemFilter)

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for t in tokens:
            if t.text.isascii():
                t.text = stem_word(t.text)
            yield t


def chinese_analyzer():  # type: ignore[no-untyped-def]
    return CjkBigramTokenizer() | AsciiStemFilter()


def word_analyzer():  # type: ignore[no-untyped-def]
    return JiebaWordTokenizer() | AsciiStemFilter()


def build_schema() -> wf.Schema:
    kinds = {
        "id": lambda name: wf.ID(stored=True, unique=name == "accession", sortable=True),
        "keyword": lambda name: wf.KEYWORD(stored=False, lowercase=False, commas=False,
                                           scorable=False),
        "text": lambda name: wf.TEXT(analyzer=chinese_analyzer(), stored=False,
                                     field_boost=3.0 if name == "title" else 1.0),
        "words": lambda name: wf.TEXT(analyzer=word_analyzer(), stored=False, phrase=False),
        "int": lambda name: wf.NUMERIC(int, bits=32, stored=True, sortable=True),
        "code": lambda name: wf.NUMERIC(int, bits=32, signed=False, stored=False,
                                        sortable=True, default=0),
        # No float fields: Whoosh 2.7.4 cannot pack the NaN default of a sortable float.
        "stored": lambda name: wf.STORED(),
    }
    schema = wf.Schema()
    for field in SEARCH_FIELDS:
        schema.add(field.name, kinds[field.kind](field.name))
    schema.add("title_stored", wf.STORED())
    return schema
