"""Search engines behind search/: `tantivy` (search/engines/tantivy.py, the only module that
imports tantivy) and `whoosh` (search/engines/whoosh/, the only package that imports Whoosh),
chosen by the setting `search_engine`. What they share stays outside them, engine-free: the
documents (search.documents), the analysis, the query tree and its compiling rules
(search.compile), snippets, transcript times, facet labels and the visibility filter.

Each engine is a module with these functions (the Engine protocol):

    exists(folder) -> bool                 an index of this engine is in the folder
    create(folder) -> index                a new, empty index
    open_index(folder) -> index            opened for reading, damage shown as IndexDamaged
    writer(index, folder, wait, procs=1) -> IndexWriter    IndexBusy after `wait` seconds
    prepare(doc) -> prepared               the document analysed for add_prepared: pure
                                           Python, picklable (a rebuild runs it in worker
                                           processes when PREPARES, search.preparing)
    searcher(index, folder) -> EngineSearcher

An EngineSearcher gives a Compiler (search.compile) and runs a compiled query:
`run(query, visible, ranked, limit, offset, facets) -> Found`, where `visible` is a
query-tree filter (search.compile.visible_to(viewer, day), or None for everything).
"""
from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from search.compile import Compiler
from search.query import Node

ENGINES = ("tantivy", "whoosh")


@dataclass(frozen=True)
class Found:
    """What one pass over an index found, read out of the engine (no lazy reads left)."""
    total: int  # exact: every match, whatever the page
    page: list[tuple[float | None, dict[str, Any]]]  # (score, stored fields) of the page
    codes: dict[str, Counter[int]] | None = None  # code field -> {code: matches} (facets)


class IndexWriter(Protocol):
    def delete(self, item_id: int) -> None: ...
    def add(self, doc: dict[str, Any]) -> None: ...
    def add_prepared(self, prepared: dict[str, Any]) -> None: ...
    def commit(self) -> None: ...
    def cancel(self) -> None: ...


class EngineSearcher(Protocol):
    def refresh(self) -> None: ...
    def is_key(self, key: str) -> bool: ...
    def compiler(self) -> Compiler: ...
    def run(self, query: Any, visible: Node | None, ranked: bool, limit: int, offset: int,
            facets: bool) -> Found: ...
    def close(self) -> None: ...


class Engine(Protocol):
    PREPARES: bool  # prepare() does real work (worth worker processes in a rebuild)

    def prepare(self, doc: dict[str, Any]) -> dict[str, Any]: ...
    def exists(self, folder: Path) -> bool: ...
    def create(self, folder: Path) -> Any: ...
    def open_index(self, folder: Path) -> Any: ...
    def writer(self, index: Any, folder: Path, wait: float, procs: int = 1) -> IndexWriter: ...
    def searcher(self, index: Any, folder: Path) -> EngineSearcher: ...


def load(name: str) -> Engine:
    """The engine called `name` (imported on first use: neither is needed for --help)."""
    if name not in ENGINES:
        raise ValueError(f"unknown search engine {name!r}")
    return cast(Engine, importlib.import_module(f"search.engines.{name}"))
