"""`archive reindex` (Tantivy) before and after: CPU seconds of the command and its worker
processes, and wall time, each tree's rebuild alternated with the other's on one generated
catalog. CPU seconds stay readable on a shared machine, where wall time is mostly waiting.

    python -m benchmarks.reindex_bench --baseline /path/to/old/tree [--items 20000]
        [--rounds 3] [--work /work/bench-cache/NAME]

The baseline is a source tree (a `git worktree add --detach DIR COMMIT`), run with this
tree's Python, as benchmarks.run's `--baseline` for ingest.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive.catalog import Catalog
from archive.settings import load_settings
from benchmarks.generators.records import generate

HERE = Path(__file__).resolve().parents[1]


def reindex(tree: Path, db: Path, index_dir: Path) -> tuple[float, float]:
    """(CPU seconds of the command and its children, wall seconds) of one rebuild."""
    env = dict(os.environ, ARCHIVE_SEARCH_ENGINE="tantivy", ARCHIVE_INDEX_DIR=str(index_dir))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "archive", "--catalog", str(db), "reindex",
                           "--quiet"], cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"archive reindex failed in {tree}:\n{done.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, type=Path, help="the old source tree")
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, help="where the catalog goes (default: a temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reindex-bench-", dir=args.work))
    db = work / "catalog.db"
    catalog = Catalog.open(load_settings({"catalog": str(db)}, environ={}))
    generate(catalog, args.items)
    catalog.close()
    trees = {"before": args.baseline.resolve(), "after": HERE}
    cpu: dict[str, list[float]] = {side: [] for side in trees}
    wall: dict[str, list[float]] = {side: [] for side in trees}
    for r in range(args.rounds):
        for side in (list(trees) if r % 2 == 0 else list(trees)[::-1]):
            c, w = reindex(trees[side], db, work / f"index-{side}")
            cpu[side].append(c)
            wall[side].append(w)
            print(f"{side:6s} CPU {c:6.2f} s  wall {w:6.2f} s  load {os.getloadavg()[0]:.1f}",
                  flush=True)
    for side in trees:
        c, w = statistics.median(cpu[side]), statistics.median(wall[side])
        print(f"{side}: median CPU {c:.2f} s ({c * 1000 / args.items:.2f} ms an item), "
              f"median wall {w:.2f} s ({args.items / w:,.0f} items/s), n={args.rounds}")
    print(f"(the catalog and indexes are in {work}: delete it when done)")


if __name__ == "__main__":
    main()
