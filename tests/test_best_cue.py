"""A transcript hit's moment (search/snippets.py best_cue, #14): passing over cues that cannot
hold a query's Han terms without cutting them into terms, and reading only the English words
of cues for a query of English words, gives the moment the plain reading of every cue gives,
on generated transcripts and on awkward cues (traditional characters, full-width forms,
ligatures and marks that change a text's length when folded)."""
from __future__ import annotations

from typing import Any

from benchmarks.generators.records import _records
from search.analysis import ascii_index_terms, index_terms
from search.query import Node, parse_query
from search.snippets import best_cue, cue_terms
from tests.test_search_rebuild import AWKWARD


def plain_best_cue(cues: list[list[Any]], node: Node | None) -> float | None:
    """Every cue cut into its terms: best_cue as it was."""
    wanted = cue_terms(node)
    if not wanted:
        return None
    best, best_score = None, 0
    for start, _end, text in cues:
        score = len(wanted.intersection(index_terms(text)))
        if score > best_score:
            best, best_score = float(start), score
    return best


AWKWARD_CUES = [
    [[0.0, 1.0, "开场白 ＱＩＡＮ"], [1.0, 2.0, "關於導彈研究的報告"], [2.0, 3.0, "导弹研究 导弹"]],
    [[0.0, 1.0, "ﬁne 導彈"], [1.0, 2.0, "e\u0301 导弹研究"], [2.0, 3.0, "Rockets 火箭"]],
    [[0.0, 1.0, "㊀㈠ 人造卫星"], [1.0, 2.0, "人造衛星 發射"], [2.0, 3.0, "⼈造卫星"]],
    [[0.0, 1.0, ""], [1.0, 2.0, "弹"], [2.0, 3.0, "导"], [3.0, 4.0, "学 学森"]],
    [[5.5, 6.0, "钱学森 Qian Xuesen 钱学森"], [6.0, 7.0, "錢學森"], [7.0, 8.0, "ǅ ß İ 钱"]],
]
QUERIES = ["导弹", "導彈研究", '"导弹研究"', "人造卫星", "学", "钱学森", "rocket", "火箭 rockets",
           "Qian Xuesen", "history", "theory 理论", "ﬁne", "导弹 -研究", "scientist:钱学森 导弹",
           "date:1950..1960", "éé"]


def generated_cues(n: int = 400) -> list[list[list[Any]]]:
    out = [text["cues"] for _, _, text in _records(n, 7, 1, [1, 2, 3]) if text["cues"]]
    assert len(out) > 10
    return out


def test_best_cue_is_the_plain_reading_of_every_cue():
    cue_lists = generated_cues() + AWKWARD_CUES
    found = 0
    for query in QUERIES + ["导弹", "研究", "卫星", "控制论", "实验室 数据"]:
        node = parse_query(query)
        for cues in cue_lists:
            at = best_cue(cues, node)
            assert at == plain_best_cue(cues, node), (query, cues)
            found += at is not None
    assert found > 50  # moments were found, not only none
    at = {q: best_cue(AWKWARD_CUES[0], parse_query(q)) for q in ("导弹", "导弹研究", "qian")}
    assert at == {"导弹": 1.0, "导弹研究": 1.0, "qian": 0.0}
    assert best_cue(AWKWARD_CUES[1], parse_query("导弹")) == 0.0  # in a cue folding lengthens
    assert best_cue(AWKWARD_CUES[2], parse_query("人造卫星")) == 0.0


def test_ascii_index_terms_are_the_english_terms_of_index_terms():
    texts = AWKWARD + [text for cues in generated_cues() + AWKWARD_CUES for _, _, text in cues]
    english = 0
    for text in texts + ["history theory histories", "Müller's Rockets 火箭", "ﬁne Flows"]:
        terms = ascii_index_terms(text)
        assert terms == {t for t in index_terms(text) if t.isascii()}, text
        english += bool(terms)
    assert english > 100
    assert ascii_index_terms("ﬁne Flows 火箭") == {"fine", "flow"}  # folding lengthens it
