"""The Whoosh engine (pure Python): the only package that imports Whoosh. The Engine protocol
of search.engines: exists, create, open_index, writer, searcher."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from search.engines.whoosh.compiler import Compiler
from search.engines.whoosh.searching import WhooshSearch
from search.engines.whoosh.store import Writer, create, damage_guard, exists, open_index


PREPARES = False  # Whoosh analyses inside its writer (search/engines/whoosh/schema.py)


def prepare(doc: dict[str, Any]) -> dict[str, Any]:
    return doc


def writer(index: Any, folder: Path, wait: float, procs: int = 1) -> Writer:
    return Writer(index, folder, wait, procs)


def searcher(index: Any, folder: Path) -> WhooshSearch:
    return WhooshSearch(index, folder)


__all__ = ["Compiler", "WhooshSearch", "Writer", "create", "damage_guard", "exists",
           "open_index", "prepare", "searcher", "writer"]
