"""Han characters: the one pattern the name matcher, the search analysis and the snippet finder
share, so a character counted as Chinese in one place is Chinese in all of them.

    HAN.match("钱")        -> a match (CJK Unified Ideographs)
    HAN.match("𠀋")        -> a match (Extension B and beyond, common in names)
    HAN.match("A")         -> None
    HAN_RUN.findall("钱学森 Qian 錢") -> ["钱学森", "錢"]
"""
from __future__ import annotations

import re

# Extension A, the Unified block, the compatibility ideographs, and Extensions B to F with the
# supplement (planes 2): the characters names and letters are written in.
HAN_CHARS = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
HAN = re.compile(f"[{HAN_CHARS}]")
HAN_RUN = re.compile(f"[{HAN_CHARS}]+")
