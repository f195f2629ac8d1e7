"""Folding's quick check for traditional characters (search/analysis.py, #14): whether it asks
the character set (`isdisjoint`) or, once a process has checked enough text, the compiled
regex, every text folds as the plain definition folds it (NFKC, case-fold, the whole t2s
table), so index terms, query terms and snippets cannot change with the check."""
from __future__ import annotations

import unicodedata

import pytest

from search import analysis
from search.analysis import _TraditionalCheck, _t2s_table, _traditional, fold
from search.snippets import make_snippet
from tests.conftest import CORPUS
from tests.test_search import RECORDS
from tests.test_search_rebuild import AWKWARD


def defined_fold(text: str) -> str:
    """What fold means, with no quick check: the table applied to every text."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_t2s_table())


def corpus_texts() -> list[str]:
    """Real-world text: a Big5 file (traditional Chinese) and a UTF-8 one."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    files = CORPUS / "documents" / "chardet"
    return [(files / "Big5_ude_1.txt").read_bytes().decode("big5"),
            (files / "utf-8_ude_1.txt").read_text(encoding="utf-8")]


def awkward_texts() -> list[str]:
    traditional = "".join(sorted(_traditional()))
    simplified_only = "钱学森的导弹研究 " * 30
    return AWKWARD + [r[5] + "\n" + (r[6] or "") for r in RECORDS] + corpus_texts() + [
        traditional,  # every character the table changes
        simplified_only + "錢",  # the only traditional character last, after a long text
        "錢" + "x" * 250_000,  # longer than a snippet scans
        "豈更車賈滑串句龜龜契金喇奈懶癩羅",  # compatibility ideographs: NFKC makes them unified
        "⼀⼈⾔⿔ ㊀㈠㍻ ㋿",  # Kangxi radicals, enclosed and squared forms
        "ＱＩＡＮ　ＸＵＥＳＥＮ，導彈！ﬁﬂ ß İ ǅ Ω K Å",  # full-width, ligatures, casing
        "e\u0301\u0323 \u1100\u1161\u11a8 學\u0301",  # combining marks NFKC recomposes
        simplified_only,
    ]


@pytest.fixture(params=["set", "regex"])
def check(request, monkeypatch) -> _TraditionalCheck:
    """The quick check as a fresh process has it (`set`) and as a long-lived one (`regex`)."""
    check = _TraditionalCheck()
    if request.param == "regex":
        check.checked = check.COMPILE_AFTER
    monkeypatch.setattr(analysis, "_has_traditional", check)
    return check


def test_fold_is_the_defined_fold_either_way(check: _TraditionalCheck):
    changed = 0
    for text in awkward_texts():
        assert fold(text) == defined_fold(text), text[:40]
        folded = unicodedata.normalize("NFKC", text).casefold()
        assert check(folded) == (folded != folded.translate(_t2s_table())), text[:40]
        changed += folded != defined_fold(text)
    assert changed >= 5  # the table was needed, not only skipped
    for c in sorted(_traditional()):  # each alone, amid simplified text
        assert check(f"钱学森{c}的导弹") and fold(f"钱{c}") == defined_fold(f"钱{c}"), c


def test_snippets_are_the_same_either_way(check: _TraditionalCheck):
    """Snippets fold every hit's text: the same marks whichever check folding used."""
    patterns = [["导弹"], ["钱学森"], ["导弹研究", "报告"], ["fine", "flow"], ["qian"],
                ["一", "人"], ["学"], ["审阅"]]
    for text in awkward_texts():
        for found in patterns:
            with pytest.MonkeyPatch.context() as plain:
                plain.setattr(analysis, "fold", defined_fold)
                plain.setattr("search.snippets.fold", defined_fold)
                expected = make_snippet(text, found)
            assert make_snippet(text, found) == expected, (text[:40], found)
    assert make_snippet("關於導彈研究的報告，請審閱。", ["导弹研究"]) == \
        "關於<mark>導彈研究</mark>的報告，請審閱。"


def test_the_check_switches_to_the_regex_after_enough_text():
    """A fresh process checks by the set (no 3-5 ms compilation in a CLI search), and by
    the compiled regex once it has checked COMPILE_AFTER characters."""
    analysis._traditional_regex.cache_clear()
    check = _TraditionalCheck()
    text = "钱学森的导弹研究" * 1_000
    for _ in range(check.COMPILE_AFTER // len(text)):
        assert not check(text)
    assert analysis._traditional_regex.cache_info().currsize == 0
    assert not check(text) and check(text + "錢")
    assert check.checked >= check.COMPILE_AFTER
    assert analysis._traditional_regex.cache_info().currsize == 1
