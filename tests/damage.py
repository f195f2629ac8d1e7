"""Damaging a search index for the tests, as damage really happens: each data file replaced
by garbage (a new file renamed over the old one), never truncated or rewritten in place.

Why not in place: Tantivy maps its segment files into memory, and a mapping can outlive every
Python reference to the index. Each open starts a thread that watches meta.json and reloads
the reader in the background, holding its segments (and their mappings) while it runs, so for
a moment after a search or a commit the files are mapped with nothing left to close. Touching
a mapped page of a file truncated under it raises SIGBUS, which kills the whole test run (it
did, under load). No writer of ours truncates an index file: Tantivy writes each segment once
and deletes it later (a mapping of a deleted file stays valid), a rebuild swaps in a new
folder, and the state file is renamed into place. A file renamed over leaves any mapping of
the old one intact, while every later open reads the garbage."""
from __future__ import annotations

import os
from pathlib import Path

from search.state import read_state

TANTIVY_BOOKKEEPING = {"meta.json", ".managed.json", "archive-index.json"}


def replace_with_garbage(path: Path, garbage: bytes = b"garbage") -> None:
    """Put `garbage` where `path` was, by renaming a new file over it."""
    part = path.with_name(path.name + ".damaged")
    part.write_bytes(garbage)
    os.replace(part, path)


def index_data_files(index_dir: Path) -> list[Path]:
    """The index's data files: every Tantivy file but its bookkeeping, or Whoosh's segments."""
    state = read_state(index_dir)
    if state is not None and state.engine == "tantivy":
        return sorted(p for p in index_dir.iterdir()
                      if p.is_file() and p.name not in TANTIVY_BOOKKEEPING
                      and not p.name.startswith(".tantivy-"))  # its lock files
    return sorted(index_dir.glob("*.seg"))


def damage_index(index_dir: Path) -> None:
    """Replace the index's data files with garbage, leaving its bookkeeping readable."""
    files = index_data_files(index_dir)
    assert files, f"no data files in {index_dir}"
    for path in files:
        replace_with_garbage(path)
