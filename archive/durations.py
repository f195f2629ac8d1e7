"""How durations and moments in a recording are written, everywhere they are shown: the CLI,
the site's pages and the exhibit exports all call these, so one recording reads the same.

    length(0.956)  -> "00:01"      (how long a recording is: rounded to the nearest second)
    length(125.5)  -> "02:06"
    length(3723)   -> "1:02:03"
    clock(125.9)   -> "02:05"      (a moment in it: never past the moment, so it plays from there)
    clock(0.956)   -> "00:00"
    hms(20)        -> "0:00:20"    (an extent in a checklist: a length, always with hours)
    hms(0.956)     -> "0:00:01"
    length(None)   -> ""
"""
from __future__ import annotations


def _layout(whole: int, hours: bool = False) -> str:
    h, m, sec = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{h}:{m:02d}:{sec:02d}" if h or hours else f"{m:02d}:{sec:02d}"


def whole_seconds(seconds: float) -> int:
    """A length in whole seconds, as the search index stores it (search/documents.py), so a
    hit's duration and its item page agree."""
    return round(seconds)


def length(seconds: float | None) -> str:
    """How long a recording is, to the nearest second."""
    if seconds is None:
        return ""
    return _layout(whole_seconds(seconds))


def clock(seconds: float | None) -> str:
    """A moment: whole seconds, never past it (a cue at 125.9 s plays from 02:05)."""
    if seconds is None:
        return ""
    return _layout(int(seconds))


def hms(seconds: float | None) -> str:
    """A length rounded like `length`, always with hours."""
    if seconds is None:
        return ""
    return _layout(whole_seconds(seconds), hours=True)
