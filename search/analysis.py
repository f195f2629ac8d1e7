"""Text analysis for Chinese and English together, engine-free: both engines index these terms.

Every text is folded first: full-width to half-width (NFKC), case, and traditional to
simplified characters (OpenCC's character table), so 導彈 and 导弹 index alike. Then:

    cjk_tokens("钱学森的导弹")  -> 钱学 学森 森的 的导 导弹 弹      (positions 0..5)
    cjk_tokens("Engineering 控制") -> engin 控制 制                  (English is stemmed)

Positions are token sequence numbers, never character offsets (jieba's own Whoosh analyzer
uses offsets, which breaks every phrase query). Character bigrams make any two-character name
or term findable wherever it stands; the trailing single character of each Han run makes a
one-character query findable by prefix. jieba's words go to a separate field, as an addition.
"""
from __future__ import annotations

import contextlib
import functools
import operator
import re
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archive.han import HAN, HAN_CHARS, HAN_RUN
from search.porter import stem

_HAN = HAN


# OpenCC's traditional-to-simplified table, character by character, one "繁 简" pair a line:
# made once by t2s_from_opencc() (`python -m search.analysis`) and shipped, because building it
# from OpenCC took 0.1-0.4 s of every search that folded a Chinese text.
# tests/test_startup.py holds the file equal to what OpenCC gives.
T2S_FILE = Path(__file__).with_name("t2s.txt")


def t2s_from_opencc() -> dict[int, str]:
    """Each traditional character OpenCC's t2s turns into one other character."""
    import opencc
    cc = opencc.OpenCC("t2s")
    table: dict[int, str] = {}
    for start, end in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)):
        for cp in range(start, end):
            simplified = cc.convert(chr(cp))
            if len(simplified) == 1 and simplified != chr(cp):
                table[cp] = simplified
    return table


def t2s_lines(table: dict[int, str]) -> str:
    """The text of T2S_FILE: t2s_lines({0x9322: "钱"}) -> "錢 钱\n"."""
    return "".join(f"{chr(cp)} {simplified}\n" for cp, simplified in sorted(table.items()))


@functools.lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    pairs = (line.split(" ") for line in T2S_FILE.read_text(encoding="utf-8").splitlines())
    return {ord(traditional): simplified for traditional, simplified in pairs}


@functools.lru_cache(maxsize=1)
def _traditional() -> frozenset[str]:
    """The characters the t2s table changes: most texts hold none, and finding that out
    (`isdisjoint`, a loop in C) takes half the time of str.translate's look-up of every
    character."""
    return frozenset(map(chr, _t2s_table()))


@functools.lru_cache(maxsize=1)
def _traditional_regex() -> re.Pattern[str]:
    """The same characters as one class: a search of it finds one 7x faster than
    `isdisjoint`, which makes a str of every character of the text (0.6 ms of a search's
    snippets at 500,000 items, #14), but compiling it takes 3-5 ms."""
    return re.compile("[" + "".join(sorted(_traditional())) + "]")


class _TraditionalCheck:
    """Whether a folded text holds a character of the t2s table: by `isdisjoint` until this
    process has checked COMPILE_AFTER characters so (about four times what compiling the
    regex costs), then by the regex. A long-lived search service or an index build switches
    within seconds; a single CLI search (some 30,000 characters) never pays the compilation.
    The answer is the same either way (tests/test_fold.py)."""

    COMPILE_AFTER = 500_000

    def __init__(self) -> None:
        self.checked = 0  # an estimate under threads: a lost update only delays the switch

    def __call__(self, folded: str) -> bool:
        if self.checked < self.COMPILE_AFTER:
            self.checked += len(folded)
            return not _traditional().isdisjoint(folded)
        return _traditional_regex().search(folded) is not None


_has_traditional = _TraditionalCheck()


def fold(text: str) -> str:
    """NFKC, case-fold, traditional -> simplified: fold("錢學森 ＱＩＡＮ") == "钱学森 qian"."""
    if text.isascii():
        return text.casefold()  # NFKC and the character table change no ASCII: skip building it
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not _has_traditional(folded):
        return folded  # nothing to translate (the usual case)
    return folded.translate(_t2s_table())


def _folded_chars(text: str) -> Iterator[tuple[int, str]]:
    """(offset in the original text, folded character): offsets survive folding so highlights
    land on the original characters."""
    for i, ch in enumerate(text):
        if ch.isascii():
            yield i, ch.lower()
            continue
        for f in unicodedata.normalize("NFKC", ch).casefold().translate(_t2s_table()):
            yield i, f


_RUN = re.compile(f"([{HAN_CHARS}]+)|([^\\W_{HAN_CHARS}]+(?:['’][^\\W_]+)*)")


def _runs(text: str) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """Split folded text into ("han", chars) and ("word", chars) runs, each character with its
    offset in the original. Folding rarely changes the length; when it does not, one regex
    over the folded text does the work (this is the indexer's hot loop)."""
    folded = fold(text)
    if len(folded) == len(text):
        for m in _RUN.finditer(folded):
            start = m.start()
            yield ("han" if m.group(1) else "word"), \
                [(start + i, c) for i, c in enumerate(m.group(0))]
        return
    pairs = list(_folded_chars(text))
    joined = "".join(c for _, c in pairs)
    for m in _RUN.finditer(joined):
        yield ("han" if m.group(1) else "word"), pairs[m.start():m.end()]


def cjk_terms(text: str, trailing_unigram: bool = True) -> Iterator[tuple[str, int, int]]:
    """(term, start offset, end offset) in order: bigrams of Han runs, words of the rest."""
    for kind, run in _runs(text):
        if kind == "han":
            for i in range(len(run) - 1):
                yield run[i][1] + run[i + 1][1], run[i][0], run[i + 1][0] + 1
            if trailing_unigram or len(run) == 1:
                yield run[-1][1], run[-1][0], run[-1][0] + 1
        else:
            word = "".join(c for _, c in run).strip("'’")
            if word:
                yield word, run[0][0], run[-1][0] + 1


def index_terms(text: str) -> list[str]:
    """The terms a text field is indexed by, in position order: the terms of cjk_terms (with
    its trailing unigrams), ASCII words stemmed. The indexer's hot loop: one regex pass and
    bigrams paired in C when folding keeps the text's length (nearly always), cjk_terms
    otherwise (its
    character-by-character folding can differ from folding the whole text at once). A test
    holds the two equal on the corpus and on awkward text.

        index_terms("钱学森的导弹")      -> ["钱学", "学森", "森的", "的导", "导弹", "弹"]
        index_terms("Engineering 控制")  -> ["engin", "控制", "制"]
        index_terms("錢 Tsien's")        -> ["钱", "tsien's"]
    """
    folded = fold(text)
    if len(folded) != len(text):
        return [stem_word(t) if t.isascii() else t for t, _, _ in cjk_terms(text)]
    terms: list[str] = []
    for han, word in _RUN.findall(folded):
        if han:
            terms += map(operator.add, han, han[1:])  # its bigrams, pairs of characters in C
            terms.append(han[-1])
        else:
            # A word never starts or ends with an apostrophe (the pattern), so cjk_terms'
            # strip of them never changes one here.
            terms.append(stem_word(word) if word.isascii() else word)
    return terms


def ascii_index_terms(text: str) -> set[str]:
    """The ASCII terms of index_terms(text), its English words stemmed, without pairing the Han
    characters: all a query of English words can find in a text (a Han term or another
    script's word is never ASCII). A test holds it to index_terms.

        ascii_index_terms("Rockets 火箭 Tsien's") -> {"rocket", "tsien'"}
    """
    folded = fold(text)
    if len(folded) != len(text):
        return {t for t in index_terms(text) if t.isascii()}
    return {stem_word(word) for _, word in _RUN.findall(folded) if word and word.isascii()}


def word_terms(value: str, query: bool = False) -> Iterator[str]:
    """jieba's search-mode words of Han runs (two characters or more) and the other words, in
    order, folded (unstemmed): the `words` field of either engine. Like index_terms, one regex
    pass over the folded text when folding keeps its length, _runs otherwise; a run of one
    character is no word and skips jieba (search mode keeps no word shorter than two).

    In a query (`query`), a Han run of one or two characters is its own word without jieba:
    search mode cuts no smaller words out of two characters, so jieba could only keep the pair
    or split it into single characters, which are no words; the words field only adds to the
    score, never decides a match. Loading jieba's dictionary was most of a two-character
    query's time (docs/PERFORMANCE.md).

        list(word_terms("导弹", query=True)) -> ["导弹"]   (jieba not loaded)
        list(word_terms("弹", query=True))   -> []
    """
    folded = fold(value)
    if len(folded) == len(value):  # nearly always: the runs of the folded text, as _runs gives
        runs: Iterator[tuple[str, str]] = iter(_RUN.findall(folded))
    else:
        runs = (("".join(c for _, c in run), "") if kind == "han" else
                ("", "".join(c for _, c in run)) for kind, run in _runs(value))
    for han, word in runs:
        if not han:
            yield word
        elif len(han) <= 2 and (query or len(han) == 1):
            if len(han) == 2:
                yield han
        else:
            yield from (_query_words(han) if query else _search_words(han))


_few_documents = False  # set within few_documents()


@contextlib.contextmanager
def few_documents() -> Iterator[None]:
    """Within it, documents' words are cut as a query's are (`_query_words`): over the table of
    jieba's dictionary unless this process has loaded the dictionary. For a catch-up of a few
    items in a process that has not (`archive edit`, a follower): loading it is 0.5 s, cutting
    over the table 0.5 ms more for a 200-character text than over the loaded dictionary
    (docs/PERFORMANCE.md). The same words either way."""
    global _few_documents
    before, _few_documents = _few_documents, True
    try:
        yield
    finally:
        _few_documents = before


@functools.lru_cache(maxsize=20_000)
def _search_words(run: str) -> tuple[str, ...]:
    """jieba's search-mode words of two characters or more in a Han run. Kept per run: a
    collection's, a place's or a tag's name recurs in item after item, and jieba's Python
    segmenter is the largest part of analysing a document. jieba (0.3 s to import, 1 s to load
    its dictionary) only for Han text."""
    if _few_documents:
        return _query_words(run)
    return tuple(w for w in _jieba().cut_for_search(run) if len(w) >= 2)


@functools.lru_cache(maxsize=1_000)
def _query_words(run: str) -> tuple[str, ...]:
    """The same words as `_search_words`, cut by jieba over a table of its dictionary
    (search.jieba_table): a CLI search reads a few keys instead of loading it (0.5 CPU s)."""
    from search.jieba_table import query_tokenizer
    return tuple(w for w in query_tokenizer(_jieba()).cut_for_search(run) if len(w) >= 2)


@functools.lru_cache(maxsize=100_000)
def stem_word(word: str) -> str:
    return stem(word)


@functools.lru_cache(maxsize=1)
def _jieba() -> Any:
    """jieba, imported on first need and quiet: it prints its dictionary loading to stderr
    (its import sets its own logger to DEBUG, so quieting has to follow the import)."""
    import logging

    # jieba imports pkg_resources only to open its own files, and opens them by path when it
    # cannot: that import is four fifths of importing jieba (0.13 of 0.16 s), paid by every
    # search of three Han characters or more. Blocked for jieba's import alone.
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        if blocked:
            del sys.modules["pkg_resources"]
    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba


def load_jieba() -> None:
    """Load jieba's dictionary now (a rebuild's worker processes then share it, instead of
    each loading its own: 1-2 s each)."""
    _jieba().initialize()


def quiet_jieba() -> None:
    """Searches and index builds print nothing of jieba's; it quiets itself when first
    imported (`_jieba`), so a query without Chinese never loads it."""
    if "jieba" in sys.modules:
        _jieba()


def query_terms(value: str) -> list[str]:
    """The index terms a query's text is looked up by, as both engines compile it: its bigrams
    and words with no trailing unigram, English words stemmed as they were indexed."""
    return [stem_word(t) if t.isascii() else t
            for t, _, _ in cjk_terms(value, trailing_unigram=False)]


def query_words(value: str) -> list[str]:
    """The terms a query's `words` clause looks up, as both engines compile it: its jieba
    words (word_terms), English ones stemmed as they were indexed, each once, in order."""
    return list(dict.fromkeys(stem_word(w) if w.isascii() else w
                              for w in word_terms(value, query=True)))


def words_imply_terms(value: str) -> bool:
    """Whether an item whose `words` field holds every one of the query's words (query_words)
    holds every one of its query_terms in its content: then the words clause can never match
    an item the content clause does not. An indexed word is a non-Han run of the text, stemmed
    as content's terms are, or jieba's cut of a Han run (search.documents indexes the same
    text in both fields), whose bigrams are that run's; so a query term is implied when it is
    one of the words, or a Han bigram inside one. Not when a bigram lies across two words
    (jieba cutting 人造卫星 as 人造 + 卫星 would leave 造卫 out) or the query has a lone Han
    character (indexed only as the last of a run).

        words_imply_terms("导弹") -> True        words_imply_terms("rockets") -> True
        words_imply_terms("导弹 弹") -> False
    """
    words = query_words(value)
    if not words:
        return False
    for term in query_terms(value):
        if term in words:
            continue
        if len(term) == 2 and HAN_RUN.fullmatch(term) and any(term in w for w in words):
            continue
        return False
    return True


if __name__ == "__main__":  # after an OpenCC upgrade changed the table: write it again
    T2S_FILE.write_text(t2s_lines(t2s_from_opencc()), encoding="utf-8")
    print(f"wrote {T2S_FILE}")
