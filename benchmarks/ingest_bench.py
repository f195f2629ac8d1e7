"""Ingest against its floors: the first ingest against reading every byte once (hash-only),
a no-op re-ingest against a bare os.scandir+stat walk, and peak memory."""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks import verify_bench
from benchmarks.generators.collection import generate_collection
from benchmarks.measure import figure, python_startup, repeat, run_process

BARE_WALK = """
import os, sys, time
def walk(p):
    n = 0
    with os.scandir(p) as it:
        for e in it:
            if e.is_dir(follow_symlinks=False):
                n += walk(e.path)
            else:
                e.stat(follow_symlinks=False)
                n += 1
    return n
print(walk(sys.argv[1]))
"""


def files_of(root: Path) -> list[str]:
    out = []
    for dirpath, _, names in os.walk(root):
        out += [os.path.join(dirpath, n) for n in names]
    return out


def hash_only(paths: list[str], jobs: int) -> float:
    """Read and hash every byte once, on `jobs` threads (hashlib releases the GIL): the floor
    any ingest that checksums its files stands on."""
    def one(p: str) -> int:
        h = hashlib.sha256()
        with open(p, "rb", buffering=0) as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return 0
    import time
    t = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, paths, chunksize=64))
    return time.perf_counter() - t


def run(n: int, repeats: int = 3, noop_repeats: int = 5) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    coll = generate_collection(work / "collection", n)
    paths = files_of(coll)
    total_bytes = sum(os.path.getsize(p) for p in paths)
    jobs = os.cpu_count() or 1
    startup = python_startup()
    hashed = repeat(lambda: hash_only(paths, jobs), repeats)
    first, rss = [], []
    for r in range(repeats):
        catalog = work / f"catalog-{r}.db"
        done = run_process([sys.executable, "-m", "archive", "--catalog", str(catalog),
                            "ingest", str(coll), "--quiet", "--json"])
        assert done.returncode == 0, done.stdout[-2000:]
        first.append(done.seconds - startup.median)
        rss.append(done.peak_rss_mb)
    catalog = work / "catalog-0.db"
    noop = repeat(lambda: run_process([sys.executable, "-m", "archive", "--catalog",
                                       str(catalog), "ingest", str(coll), "--quiet"]).seconds
                  - startup.median, noop_repeats)
    bare_startup = repeat(lambda: run_process([sys.executable, "-c", "pass"]).seconds, 5)
    walk = repeat(lambda: run_process([sys.executable, "-c", BARE_WALK, str(coll)]).seconds
                  - bare_startup.median, noop_repeats)
    checked = verify_bench.run(catalog, paths, jobs, startup, repeats)
    first_fig = figure(first)
    result = {
        "files": n, "mib": round(total_bytes / 2**20, 1), "jobs": jobs,
        "startup_s": startup, "hash_only_s": hashed, "first_ingest_s": first_fig,
        "files_per_s": round(n / first_fig.median), "mib_per_s": round(
            total_bytes / 2**20 / first_fig.median, 1),
        "first_vs_hash": round(first_fig.median / hashed.median, 1),
        "noop_s": noop, "walk_s": walk,
        "noop_vs_walk": round(noop.median / max(walk.median, 1e-3), 1),
        "ingest_peak_rss_mb": round(max(rss)),
        "verify": checked,
    }
    shutil.rmtree(work, ignore_errors=True)
    return result
