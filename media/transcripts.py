"""SRT and WebVTT transcripts parsed into timed cues.

    parse_transcript("1\\n00:00:01,500 --> 00:00:04,000\\n我们开始\\n")
        -> (Cue(1.5, 4.0, "我们开始"),)
    parse_transcript("WEBVTT\\n\\n00:05.000 --> 00:07.250 align:start\\n<v Qian>导弹</v>\\n")
        -> (Cue(5.0, 7.25, "导弹"),)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_CUE_LINE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _seconds(h: str | None, m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")[:3]) / 1000


def parse_transcript(text: str) -> tuple[Cue, ...]:
    """Cues of an SRT or WebVTT text; lines outside cues (numbers, headers, NOTEs) are dropped."""
    cues: list[Cue] = []
    current: tuple[float, float] | None = None
    lines: list[str] = []

    def flush() -> None:
        if current is not None:
            body = " ".join(_TAG.sub("", ln).strip() for ln in lines if ln.strip())
            if body:
                cues.append(Cue(current[0], current[1], body))

    for line in text.lstrip("\ufeff").splitlines():
        m = _CUE_LINE.match(line)
        if m:
            flush()
            g = m.groups()
            current, lines = (_seconds(*g[:4]), _seconds(*g[4:])), []
        elif not line.strip():
            flush()
            current, lines = None, []
        elif current is not None:
            lines.append(line)
    flush()
    return tuple(cues)


def transcript_text(cues: tuple[Cue, ...]) -> str:
    return "\n".join(c.text for c in cues)
