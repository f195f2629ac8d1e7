"""How durations and moments in a recording are written, everywhere they are shown.

    clock(125.5)  -> "02:05"      (a moment or a length, as players show it)
    clock(3723)   -> "1:02:03"
    hms(20)       -> "0:00:20"    (an extent in a checklist: always hours)
    hms(3725.4)   -> "1:02:05"
"""
from __future__ import annotations


def clock(seconds: float | None) -> str:
    """Whole seconds, never past the moment (a cue at 125.9 s plays from 02:05)."""
    if seconds is None:
        return ""
    s = int(seconds)
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def hms(seconds: float | None) -> str:
    """A duration rounded to the second, always with hours."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
