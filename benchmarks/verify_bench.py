"""Fixity against its floor: `archive verify --all` over an ingested collection against a bare
hash-only pass over the same files, the two alternated in the same run so a shared machine's
load falls on both alike (goal: verify's throughput at least 0.8 of the bare pass's).

Throughput is measured over the checking itself (the `seconds` verify reports: from its first
file to its last result recorded); the whole command is reported beside it, interpreter
start-up subtracted, since importing SQLAlchemy and opening the catalog is a fixed cost that
no number of files changes."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.measure import Figure, figure, run_process


def run(catalog: Path, paths: list[str], jobs: int, startup: Figure,
        repeats: int = 3) -> dict[str, Any]:
    """`catalog` holds `paths` already (the ingest benchmark's first catalog)."""
    from benchmarks.ingest_bench import hash_only
    bare, checking, command = [], [], []
    for _ in range(repeats):
        bare.append(hash_only(paths, jobs))
        done = run_process([sys.executable, "-m", "archive", "--catalog", str(catalog),
                            "verify", "--all", "--quiet", "--json", "--jobs", str(jobs)])
        report = json.loads(done.stdout)
        assert done.returncode == 0 and report["checked"] == len(paths), done.stdout[-2000:]
        checking.append(report["seconds"])
        command.append(done.seconds - startup.median)
    bare_fig, checking_fig, command_fig = figure(bare), figure(checking), figure(command)
    return {"files": len(paths), "jobs": jobs, "hash_only_s": bare_fig,
            "verify_s": checking_fig, "command_s": command_fig,
            "files_per_s": round(len(paths) / checking_fig.median),
            "throughput_vs_hash": round(bare_fig.median / checking_fig.median, 2),
            "command_vs_hash": round(bare_fig.median / command_fig.median, 2)}
