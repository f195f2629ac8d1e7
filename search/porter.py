"""The Porter stemmer for English words (both engines' analysis stems ASCII words with it).

Whoosh 2.7.4's `whoosh/lang/porter.py` (BSD 2-clause, Copyright Matt Chaput), its rules copied
unchanged so that indexes and queries stem exactly as they did when the analysis imported it:
the analysis stays engine-free (only search/engines/whoosh/ imports Whoosh).

    stem("rockets") -> "rocket"      stem("engineering") -> "engin"
    stem("fundamentally") -> "fundament"
"""
from __future__ import annotations

import re

# Suffix replacement lists

_step2list = {
              "ational": "ate",
              "tional": "tion",
              "enci": "ence",
              "anci": "ance",
              "izer": "ize",
              "bli": "ble",
              "alli": "al",
              "entli": "ent",
              "eli": "e",
              "ousli": "ous",
              "ization": "ize",
              "ation": "ate",
              "ator": "ate",
              "alism": "al",
              "iveness": "ive",
              "fulness": "ful",
              "ousness": "ous",
              "aliti": "al",
              "iviti": "ive",
              "biliti": "ble",
              "logi": "log",
              }

_step3list = {
              "icate": "ic",
              "ative": "",
              "alize": "al",
              "iciti": "ic",
              "ical": "ic",
              "ful": "",
              "ness": "",
              }


_cons = "[^aeiou]"
_vowel = "[aeiouy]"
_cons_seq = "[^aeiouy]+"
_vowel_seq = "[aeiou]+"

# m > 0
_mgr0 = re.compile("^(" + _cons_seq + ")?" + _vowel_seq + _cons_seq)
# m == 0
_meq1 = re.compile("^(" + _cons_seq + ")?" + _vowel_seq + _cons_seq + "(" + _vowel_seq + ")?$")
# m > 1
_mgr1 = re.compile("^(" + _cons_seq + ")?" + _vowel_seq + _cons_seq + _vowel_seq + _cons_seq)
# vowel in stem
_s_v = re.compile("^(" + _cons_seq + ")?" + _vowel)
# ???
_c_v = re.compile("^" + _cons_seq + _vowel + "[^aeiouwxy]$")

# Patterns used in the rules

_ed_ing = re.compile("^(.*)(ed|ing)$")
_at_bl_iz = re.compile("(at|bl|iz)$")
_step1b = re.compile("([^aeiouylsz])\\1$")
_step2 = re.compile("^(.+?)(ational|tional|enci|anci|izer|bli|alli|entli|eli|ousli|ization|ation|ator|alism|iveness|fulness|ousness|aliti|iviti|biliti|logi)$")  # noqa: E501
_step3 = re.compile("^(.+?)(icate|ative|alize|iciti|ical|ful|ness)$")
_step4_1 = re.compile("^(.+?)(al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous|ive|ize)$")  # noqa: E501
_step4_2 = re.compile("^(.+?)(s|t)(ion)$")
_step5 = re.compile("^(.+?)e$")


# Stemming function

def stem(w: str) -> str:
    """English suffixes removed by the Porter algorithm (words under 3 letters as they are)."""
    if len(w) < 3:
        return w

    first_is_y = w[0] == "y"
    if first_is_y:
        w = "Y" + w[1:]

    # Step 1a
    if w.endswith("s"):
        if w.endswith("sses") or w.endswith("ies"):
            w = w[:-2]
        elif w[-2] != "s":
            w = w[:-1]

    # Step 1b

    if w.endswith("eed"):
        s = w[:-3]
        if _mgr0.match(s):
            w = w[:-1]
    else:
        m = _ed_ing.match(w)
        if m:
            base = m.group(1)
            if _s_v.match(base):
                w = base
                if _at_bl_iz.match(w):
                    w += "e"
                elif _step1b.match(w):
                    w = w[:-1]
                elif _c_v.match(w):
                    w += "e"

    # Step 1c

    if w.endswith("y"):
        base = w[:-1]
        if _s_v.match(base):
            w = base + "i"

    # Step 2

    m = _step2.match(w)
    if m:
        base = m.group(1)
        suffix = m.group(2)
        if _mgr0.match(base):
            w = base + _step2list[suffix]

    # Step 3

    m = _step3.match(w)
    if m:
        base = m.group(1)
        suffix = m.group(2)
        if _mgr0.match(base):
            w = base + _step3list[suffix]

    # Step 4

    m = _step4_1.match(w)
    if m:
        base = m.group(1)
        if _mgr1.match(base):
            w = base
    else:
        m = _step4_2.match(w)
        if m:
            base = m.group(1) + m.group(2)
            if _mgr1.match(base):
                w = base

    # Step 5

    m = _step5.match(w)
    if m:
        base = m.group(1)
        if _mgr1.match(base) or (_meq1.match(base) and not _c_v.match(base)):
            w = base

    if w.endswith("ll") and _mgr1.match(w):
        w = w[:-1]

    if first_is_y:
        w = "y" + w[1:]

    return w
