"""How the index spells what is no text: a scientist's name part, a day. Shared by the
documents written (search.documents) and the queries and filters that look them up
(search.compile, search.searcher), without importing the catalog's models for them.

    PART + "xuesen"              -> "~xuesen"
    day_number(date(2051, 1, 1)) -> 20510101
"""
from __future__ import annotations

import datetime as dt

# Marks a key of a surname or given name alone, in the same index field as whole names: a
# query decides whether a part may match (`Tsien`, `scientist:qian` yes; 学森 as free text
# stays text, as it always was).
PART = "~"


def day_number(day: dt.date) -> int:
    """A day as the index stores it: day_number(date(2051, 1, 1)) -> 20510101."""
    return day.year * 10000 + day.month * 100 + day.day
