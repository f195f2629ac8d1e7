"""Could a folder's name be a person's name? Decides whether ingest may make a new scientist of
an unknown folder: "Certs", "Images" or "Audio-bad" must never become scientists.

    could_be_person_name("钱学森")          -> True   (Han, name length, a surname first)
    could_be_person_name("錢學森")          -> True   (traditional forms fold to simplified)
    could_be_person_name("欧阳自远")        -> True   (compound surname)
    could_be_person_name("其他")            -> False  (其 is no surname)
    could_be_person_name("新建文件夹")      -> False  (too long for a name)
    could_be_person_name("王")              -> False  (a surname alone)
    could_be_person_name("zhao_jiuzhang")   -> True   (pinyin syllables, surname first)
    could_be_person_name("Qian Xuesen")     -> True
    could_be_person_name("Xuesen Qian")     -> True   (Western order: surname last)
    could_be_person_name("QianXuesen")      -> True   (camel case splits words)
    could_be_person_name("qianxuesen")      -> True
    could_be_person_name("Hua Luogeng")     -> True
    could_be_person_name("Chou Pei-yuan")   -> True   (Wade-Giles)
    could_be_person_name("Tsien Hsue-shen") -> True   (the postal forms scientists used)
    could_be_person_name("Lee Tsung-Dao")   -> True
    could_be_person_name("Li Na")           -> True
    could_be_person_name("Certs")           -> False  (not syllables)
    could_be_person_name("Images")          -> False
    could_be_person_name("Audio-bad")       -> False
    could_be_person_name("China")           -> False  (one word needs a two-syllable given name)
    could_be_person_name("data")            -> False  (da is no surname)
    could_be_person_name("2019")            -> False

The syllables are those of pypinyin's dictionary in pinyin and in Wade-Giles, plus a few postal
spellings (read from its files: ingest never imports pypinyin); the surnames are the common ones
of the Hundred Family Surnames (百家姓).
"""
from __future__ import annotations

import ast
import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.names import _character_readings, _reading, _toneless, has_han, pypinyin_folder

# Single-character surnames, simplified (traditional names are folded to simplified first).
_SURNAMES = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛"
    "奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康"
    "伍余元卜顾孟平黄和穆萧肖尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝"
    "闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍虞万支柯昝管卢莫经房裘缪干解应"
    "宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於惠甄曲家封芮羿储靳汲邴糜松井段富"
    "巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟"
    "薄印宿白怀蒲邰从鄂索咸籍赖卓蔺屠蒙池乔阴郁胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍却璩桑"
    "桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满"
    "弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾毋沙乜养鞠须丰巢关蒯"
    "相查后荆红游竺权逯盖益桓公付覃丛涂谌揭佘练区邝")
_COMPOUND_SURNAMES = frozenset(
    "万俟 司马 上官 欧阳 夏侯 诸葛 闻人 东方 赫连 皇甫 尉迟 公羊 澹台 公冶 宗政 濮阳 淳于 单于 "
    "太叔 申屠 公孙 仲孙 轩辕 令狐 钟离 宇文 长孙 慕容 鲜于 闾丘 司徒 司空 端木 呼延 南宫 东郭 "
    "百里 西门 第五 拓跋 完颜 爱新觉罗".split())
# Spellings Chinese scientists of the last century published under that are neither pinyin nor
# Wade-Giles (Tsien Hsue-shen, Yuen Ren Chao, Kwok): syllables, and surnames where marked.
_POSTAL_SYLLABLES = frozenset({"tsien", "tsiang", "hsue", "yuen", "kwok", "kwan", "kwang",
                               "woo", "loo", "lee", "soong", "shiung", "tsai", "tsao"})
_POSTAL_SURNAMES = frozenset({"tsien", "tsiang", "yuen", "kwok", "kwan", "woo", "loo", "lee",
                              "soong", "tsai", "tsao"})
# Interjections (呣 m, 嗯 n/ng, 哼 hng): syllables in the dictionary, never in a name, and
# enough to make English words look like pinyin ("mango" = m-an-go).
_NOT_IN_NAMES = frozenset({"m", "n", "ng", "hm", "hng"})
_MIDDLE_DOTS = "·•‧・"
_WORDS = re.compile(r"[\s_\-.,'’]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_MAX_GIVEN = 2  # syllables of a given name


def could_be_person_name(name: str) -> bool:
    """Whether `name` may be a person's name (see the module docstring for examples)."""
    name = unicodedata.normalize("NFKC", name).strip()
    if has_han(name):
        return _han_name(name)
    return _romanised_name(name)


def _han_name(name: str) -> bool:
    chars = "".join(c for c in name if not c.isspace() and c not in _MIDDLE_DOTS)
    if not all(has_han(c) for c in chars) or not 2 <= len(chars) <= 4:
        return False
    chars = _simplified(chars)
    if chars[:2] in _COMPOUND_SURNAMES:
        return len(chars) >= 3
    return chars[0] in _SURNAMES and len(chars) <= 3


def _simplified(text: str) -> str:
    import opencc  # loaded only when an unknown Chinese folder is met
    return str(_converter(opencc).convert(text))


@functools.lru_cache(maxsize=1)
def _converter(opencc):  # type: ignore[no-untyped-def]
    return opencc.OpenCC("t2s")


def _romanised_name(name: str) -> bool:
    words = [w for w in _WORDS.split(_CAMEL.sub(" ", name)) if w]
    if not 1 <= len(words) <= 3 or not all(w.isascii() and w.isalpha() for w in words):
        return False
    words = [w.lower() for w in words]
    syllables, surnames = _syllables(), _surnames()
    if len(words) == 1:  # run together: a surname then a given name of two syllables
        word = words[0]
        return any(word.startswith(s) and _count(word[len(s):], syllables) == _MAX_GIVEN
                   for s in surnames if len(s) < len(word))
    counts = [_count(w, syllables) for w in words]
    if None in counts:
        return False
    first, last = words[0], words[-1]
    given_after = sum(c or 0 for c in counts[1:])
    given_before = sum(c or 0 for c in counts[:-1])
    return (first in surnames and 1 <= given_after <= _MAX_GIVEN) or \
        (last in surnames and 1 <= given_before <= _MAX_GIVEN)


def _count(word: str, syllables: frozenset[str]) -> int | None:
    """The fewest syllables `word` splits into, or None when it is not made of syllables.

    _count("xuesen", ...) -> 2;  _count("cert", ...) -> None;  _count("", ...) -> 0
    """
    best: list[int | None] = [0] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            before = best[start]
            if before is not None and word[start:end] in syllables:
                n = before + 1
                current = best[end]
                if current is None or n < current:
                    best[end] = n
    return best[len(word)]


def _plain(reading: str) -> str:
    """Tone marks and the umlaut dropped, as folder names write them: 'xué' -> 'xue',
    'hsveh' (pypinyin's Wade-Giles ü) -> 'hsueh', "ch'ien" -> 'chien'."""
    text = unicodedata.normalize("NFKD", reading)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("v", "u").replace("'", "").replace("’", "").lower()


# Each syllable's readings come from pypinyin's character table and its Wade-Giles spelling
# from pypinyin's own conversion tables, both read from its files without importing pypinyin:
# its import loads its table of phrases too (0.3-1.3 s), which a folder name never needs.

@dataclass(frozen=True)
class _WadeGilesTables:
    exceptions: dict[str, str]  # whole syllables spelt apart from the rule ("zhi" -> "chih")
    wholes: dict[str, str]  # whole syllables ("zhang" -> "chang")
    initials: dict[str, str]  # "x" -> "hs"
    finals: dict[str, str]  # "ong" -> "ung"
    initial_order: tuple[str, ...]  # pinyin's initials, y and w included, tried in this order


@functools.lru_cache(maxsize=1)
def _wade_giles_tables() -> _WadeGilesTables:
    folder = pypinyin_folder() / "style"
    found = _literals(folder / "wadegiles.py") | _literals(folder / "_constants.py")

    def table(name: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for pinyin, wade in found[name]:
            out.setdefault(pinyin, wade)  # pypinyin takes the first match
        return out
    return _WadeGilesTables(table("_except_table"), table("_convert_table"),
                            table("_initial_table"), table("_tone_table"),
                            (*found["_INITIALS"], "y", "w"))


def _literals(source: Path) -> dict[str, Any]:
    """The module-level names of `source` bound to a literal (lists, strings), unexecuted."""
    tree = ast.parse(source.read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # not a literal (a regular expression, a sum of tables)
    return out


def wade_giles(syllable: str) -> str:
    """A toneless pinyin syllable (ü written v) in Wade-Giles, as pypinyin's Style.WADEGILES
    spells it (tests/test_pure.py compares every syllable), its ü written v.

        wade_giles("xue")  -> "hsveh"
        wade_giles("zhi")  -> "chih"
        wade_giles("qian") -> "ch'ien"
    """
    tables = _wade_giles_tables()
    pinyin = syllable.replace("v", "ü")
    for whole in (tables.exceptions, tables.wholes):
        spelt = whole.get(pinyin, pinyin)
        if spelt != pinyin:
            return spelt.replace("ü", "v")
    initial = next((i for i in tables.initial_order if pinyin.startswith(i)), "")
    final = pinyin[len(initial):]
    return (tables.initials.get(initial, initial) + tables.finals.get(final, final)) \
        .replace("ü", "v")


@functools.lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    toned = {r for readings in _character_readings().values() for r in readings.split(",")}
    found = set(_POSTAL_SYLLABLES)
    for reading in toned:
        found.add(_plain(reading))
        found.add(_plain(wade_giles(_toneless(reading))))
    return frozenset(s for s in found if s.isascii() and s.isalpha() and s not in _NOT_IN_NAMES)


@functools.lru_cache(maxsize=1)
def _surnames() -> frozenset[str]:
    """Surnames in pinyin and Wade-Giles: every reading of a one-character surname, and of a
    compound one every reading of each character in turn (pypinyin's table of phrases knows
    万俟 as moqi; its characters alone read wan/mo and si/qi, moqi among them)."""
    found = set(_POSTAL_SURNAMES)
    for surname in sorted(_SURNAMES | _COMPOUND_SURNAMES):
        readings = [_reading(c, heteronym=True) for c in surname]
        for combo in itertools.product(*readings):
            found.add("".join(_plain(r) for r in combo))
            found.add("".join(_plain(wade_giles(r)) for r in combo))
    return frozenset(found)
