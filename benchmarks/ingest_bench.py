"""Ingest against its floors: the first ingest against reading every byte once (hash-only),
a no-op re-ingest against a bare os.scandir+stat walk, and peak memory.

How the no-op ratio is worked out (goal: at most 2x). Each no-op run is the whole command as an
archivist runs it, less the CLI's own start-up (`archive --version`); the bare walk is a Python
script, less Python's start-up (`python -c pass`). Both are measured in the same rounds, one
after the other, so a shared machine's load falls on both alike. The command's cost has a fixed
part that no number of files changes (importing SQLAlchemy and the models, opening the catalog,
the lock, the run record), measured as a no-op on a folder of a few files, and a part per file;
both are reported beside the ratio, since at tens of thousands of files the fixed part is most
of it.

With `baseline` (a source tree of the code before a change), every command is also run with
that tree first on PYTHONPATH, alternated round by round with the current one: before and after
in one run, under the same load.

    python -m benchmarks.ingest_bench [FILES] [--baseline SRC_TREE] [--kind mixed|text]
        [--first-only]
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import verify_bench
from benchmarks.generators.collection import KINDS, TEXT_ONLY, generate_collection
from benchmarks.measure import Figure, Run, figure, run_process
from benchmarks.postgres_bench import TreeCPU

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
TINY_FILES = 5  # the folder whose no-op measures the fixed part


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
    t = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, paths, chunksize=64))
    return time.perf_counter() - t


def _archive(tree: str | None, *args: str) -> Run:
    """`python -m archive ARGS`, with the code of `tree` (None: the current code). `-P`: the
    working folder is not put first on the path, or a run started in a checkout would
    measure that checkout's code on both sides."""
    return run_process([sys.executable, "-P", "-m", "archive", *args], _code_env(tree))


def _code_env(tree: str | None) -> dict[str, str]:
    """The environment a run of `tree`'s code (None: the current code) adds: that code first
    on the path, and Python's bytecode caches as an installed copy has them. Where the
    environment sets PYTHONDONTWRITEBYTECODE (this machine's does), a run would compile every
    module without a cache again (0.1-0.15 s), and the two trees do not have the same ones."""
    return {"PYTHONDONTWRITEBYTECODE": "", **({"PYTHONPATH": tree} if tree else {})}


def _ingest_tree(tree: str | None, *args: str) -> tuple[Run, float]:
    """`_archive(tree, *args)`, and the CPU seconds of its workers, sampled from /proc: the
    Run's own figure (wait4) counts only the command's process, as the forkserver that starts
    the workers is never waited for."""
    env = {**os.environ, **_code_env(tree)}
    proc = subprocess.Popen([sys.executable, "-P", "-m", "archive", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    workers = TreeCPU([proc.pid])
    stdout = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    _, others = workers.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode,
               stdout.decode("utf-8", "replace"), usage.ru_utime + usage.ru_stime), others


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _first_ingests(coll: Path, work: Path, trees: dict[str, str | None],
                   repeats: int) -> dict[str, dict[str, Any]]:
    """Each tree's first ingest into an empty catalog, alternated: the whole command, and the
    catalog part alone (the `seconds` ingest reports, before the search index is updated)."""
    out: dict[str, dict[str, list[float]]] = {
        side: {"command": [], "catalog": [], "rss": [], "startup": [], "startup_cpu": [],
               "main_cpu": [], "workers_cpu": []} for side in trees}
    files = 0
    for r in range(repeats):
        # Each round in the other order, so neither side always runs first (just after the
        # hash-only pass, or after the other side's writing).
        for side, tree in (list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]):
            version = _archive(tree, "--version")
            out[side]["startup"].append(version.seconds)
            out[side]["startup_cpu"].append(version.cpu_s)
            done, workers_cpu = _ingest_tree(tree, "--catalog",
                                             str(work / f"catalog-{side}-{r}.db"), "ingest",
                                             str(coll), "--quiet", "--json")
            assert done.returncode == 0, done.stdout[-2000:]
            files = json.loads(done.stdout)["new"]
            out[side]["command"].append(done.seconds)
            out[side]["catalog"].append(json.loads(done.stdout)["seconds"])
            out[side]["rss"].append(done.peak_rss_mb)
            out[side]["main_cpu"].append(done.cpu_s)
            out[side]["workers_cpu"].append(workers_cpu)
    result = {}
    for side, v in out.items():
        startup = figure(v["startup"])
        command = figure([c - startup.median for c in v["command"]])
        catalog = figure(v["catalog"])
        # CPU a file, the command's start-up (`archive --version`'s CPU) left out.
        main = figure([(c - figure(v["startup_cpu"]).median) * 1000 / max(files, 1)
                       for c in v["main_cpu"]])
        workers = figure([c * 1000 / max(files, 1) for c in v["workers_cpu"]])
        total = figure([(c + w - figure(v["startup_cpu"]).median) * 1000 / max(files, 1)
                        for c, w in zip(v["main_cpu"], v["workers_cpu"], strict=True)])
        result[side] = {"startup_s": startup, "first_ingest_s": command,
                        "first_catalog_s": catalog,
                        "index_s": round(command.median - catalog.median, 2),
                        "peak_rss_mb": round(max(v["rss"])),
                        "cpu_ms_per_file": total, "main_cpu_ms_per_file": main,
                        "workers_cpu_ms_per_file": workers}
    return result


def _noops(coll: Path, tiny: Path, work: Path, trees: dict[str, str | None],
           rounds: int, catalog: Path | None = None) -> dict[str, Any]:
    """No-op re-runs (of the collection and of a few files) beside the bare walk, each round
    every command once, in turn. `catalog`: the collection's, for every side (by default each
    side's own from its first ingest)."""
    commands: dict[str, Callable[[], Run]] = {
        "python": lambda: run_process([sys.executable, "-c", "pass"]),
        "walk": lambda: run_process([sys.executable, "-c", BARE_WALK, str(coll)]),
    }
    for side, tree in trees.items():
        side_catalog = str(catalog or work / f"catalog-{side}-0.db")
        tiny_catalog = str(work / f"tiny-{side}.db")
        done = _archive(tree, "--catalog", tiny_catalog, "ingest", str(tiny), "--quiet")
        assert done.returncode == 0, done.stdout[-2000:]
        commands[f"{side} version"] = partial(_archive, tree, "--version")
        commands[f"{side} noop"] = partial(_archive, tree, "--catalog", side_catalog, "ingest",
                                           str(coll), "--quiet")
        commands[f"{side} noop tiny"] = partial(_archive, tree, "--catalog", tiny_catalog,
                                                "ingest", str(tiny), "--quiet")
    wall: dict[str, list[float]] = {k: [] for k in commands}
    cpu: dict[str, list[float]] = {k: [] for k in commands}
    loads = [_load()]
    for r in range(rounds):
        for name, command in (list(commands.items()) if r % 2 == 0
                              else list(commands.items())[::-1]):
            done = command()
            assert done.returncode == 0, (name, done.stdout[-2000:])
            wall[name].append(done.seconds)
            cpu[name].append(done.cpu_s)
    loads.append(_load())
    walk = figure([w - figure(wall["python"]).median for w in wall["walk"]])
    # CPU seconds too: on a loaded machine a command's wall time is mostly waiting for a core.
    walk_cpu = max(figure(cpu["walk"]).median - figure(cpu["python"]).median, 1e-3)
    out: dict[str, Any] = {"walk_s": walk, "walk_cpu_s": round(walk_cpu, 4), "load": loads}
    for side in trees:
        version = figure(wall[f"{side} version"]).median
        noop = figure([w - version for w in wall[f"{side} noop"]])
        fixed = figure([w - version for w in wall[f"{side} noop tiny"]])
        version_cpu = figure(cpu[f"{side} version"]).median
        out[side] = {
            "noop_s": noop, "noop_fixed_s": fixed,
            "noop_vs_walk": round(noop.median / max(walk.median, 1e-3), 1),
            # What each file adds, against what each file costs the bare walk.
            "noop_per_file_vs_walk": round(max(noop.median - fixed.median, 0.0)
                                           / max(walk.median, 1e-3), 1),
            "noop_cpu_s": round(figure(cpu[f"{side} noop"]).median - version_cpu, 3),
            "noop_fixed_cpu_s": round(figure(cpu[f"{side} noop tiny"]).median - version_cpu, 3),
        }
        noop_cpu, fixed_cpu = out[side]["noop_cpu_s"], out[side]["noop_fixed_cpu_s"]
        out[side].update(noop_cpu_vs_walk=round(noop_cpu / walk_cpu, 1),
                         noop_per_file_cpu_vs_walk=round(max(noop_cpu - fixed_cpu, 0.0)
                                                         / walk_cpu, 2))
    return out


KIND_CHOICES = {"mixed": KINDS, "text": TEXT_ONLY}


def run(n: int, repeats: int = 3, noop_repeats: int = 5, baseline: str | None = None,
        kind: str = "mixed", first_only: bool = False) -> dict[str, Any]:
    """Measure at n files. `baseline`: a source tree to measure before the current code;
    `kind`: "mixed" or "text" (small text files only); `first_only`: the first ingest alone
    (no hash-only pass, no no-op, no verify)."""
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    coll = generate_collection(work / "collection", n, kinds=KIND_CHOICES[kind])
    trees: dict[str, str | None] = {"after": None}
    if baseline:
        trees = {"before": os.path.abspath(baseline), "after": None}
    if first_only:
        loads = [_load()]
        first = _first_ingests(coll, work, trees, repeats)
        loads.append(_load())
        shutil.rmtree(work, ignore_errors=True)
        return {"files": n, "kind": kind, "load": loads, "first": first,
                "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                **({"baseline": baseline} if baseline else {})}
    tiny = generate_collection(work / "tiny", TINY_FILES)
    paths = files_of(coll)
    total_bytes = sum(os.path.getsize(p) for p in paths)
    jobs = os.cpu_count() or 1
    load_before = _load()
    hashed = figure([hash_only(paths, jobs) for _ in range(repeats)])
    first = _first_ingests(coll, work, trees, repeats)
    noop = _noops(coll, tiny, work, trees, noop_repeats)
    now = first["after"]
    checked = verify_bench.run(work / "catalog-after-0.db", paths, jobs, now["startup_s"],
                               repeats)
    result = _figures(n, total_bytes, jobs, hashed, now, noop, noop["after"])
    result.update(load=[load_before, *noop["load"], _load()], verify=checked,
                  measured=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    if baseline:
        result["before"] = _figures(n, total_bytes, jobs, hashed, first["before"], noop,
                                    noop["before"])
        result["baseline"] = baseline
    shutil.rmtree(work, ignore_errors=True)
    return result


def noop_sizes(sizes: list[int], baseline: str | None = None, rounds: int = 5,
               work: Path | None = None) -> dict[str, Any]:
    """The no-op re-run alone, at each size (#13.8): the whole command against the bare walk
    and its split into a fixed part and a part per file, before and after alternated when
    `baseline` is given. The collection and its catalog are made once (by the current code)
    and kept in `work` when given, so a second run measures at once; the no-ops of both sides
    run on that one catalog (each adds only its run record)."""
    keep = work is not None
    work = Path(work or tempfile.mkdtemp(prefix="noop-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    trees: dict[str, str | None] = {"after": None}
    if baseline:
        trees = {"before": os.path.abspath(baseline), "after": None}
    tiny = _made(work / "tiny", TINY_FILES)
    out: dict[str, Any] = {"measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "commit": _commit(), "baseline": baseline, "sizes": []}
    for n in sizes:
        coll = _made(work / f"collection-{n}", n)
        catalog = work / f"catalog-{n}.db"
        if not catalog.with_suffix(".done").exists():  # the first ingest, once
            done = _archive(None, "--catalog", str(catalog), "ingest", str(coll), "--quiet")
            assert done.returncode in (0, 1), done.stdout[-2000:]
            catalog.with_suffix(".done").touch()
        noop = _noops(coll, tiny, work, trees, rounds, catalog)
        size: dict[str, Any] = {"files": n, "walk_s": noop["walk_s"],
                                "walk_cpu_s": noop["walk_cpu_s"], "load": noop["load"]}
        for side in trees:
            fig = noop[side]
            # Where the whole command meets the goal, in CPU seconds (what a loaded machine
            # distorts least): fixed + k * walk(N) <= 2 * walk(N), k the per-file ratio.
            per_file = fig["noop_per_file_cpu_vs_walk"]
            met = max(fig["noop_fixed_cpu_s"], 0.0) / ((NOOP_GOAL - per_file)
                                                       * noop["walk_cpu_s"] / n) \
                if per_file < NOOP_GOAL else None
            # 0: at any size (a fixed part within its noise of nothing); None: at none.
            size[side] = {**fig, "goal_met_at_files": round(met, -3) if met is not None
                          else None}
        out["sizes"].append(size)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _met_at(files: float | None) -> str:
    """The "2× at" cell.

        _met_at(None) -> "never";  _met_at(0) -> "any size";  _met_at(28000) -> "28,000 files"
    """
    if files is None:
        return "never"
    return f"{files:,.0f} files" if files else "any size"


def _made(folder: Path, n: int) -> Path:
    """A generated collection of n files, made once in a kept work folder."""
    marker = folder.with_suffix(".made")
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        generate_collection(folder, n)
        marker.touch()
    return folder


def _commit() -> str:
    import subprocess
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=Path(__file__).parent)
    return done.stdout.strip()


def noop_size_lines(run: dict[str, Any]) -> list[str]:
    """A table of one `noop_sizes` run for the Ingest section."""
    sides = [s for s in ("before", "after") if s in run["sizes"][0]]
    lines = [f"No-op re-run alone, measured on {run['measured']} at commit {run['commit']} by "
             "`python -m benchmarks.run --only ingest --noop "
             f"{','.join(str(x['files']) for x in run['sizes'])}"
             f"{' --baseline SRC' if run.get('baseline') else ''}` (the same generated mixed "
             "collections; " + ("before and after alternated command by command, " if
                                len(sides) > 1 else "") + "load average (1 min) "
             + ", ".join("→".join(str(v) for v in x["load"]) for x in run["sizes"])
             + f" on {os.cpu_count()} shared cores). Seconds are medians (min–max, n) less "
             "`archive --version` (the walk: less `python -c pass`); CPU seconds likewise. "
             "Ratios to the walk: the whole command; the part per file (no-op less the fixed "
             "part of a no-op on 5 files), in wall time then CPU. \"2× at\": the collection "
             "size where, in CPU seconds, fixed + per file × walk = 2 × walk.", "",
             "| files | bare walk: wall, CPU | " + " | ".join(
                 f"{s}: no-op wall (fixed) | {s}: CPU (fixed) | {s}: ×walk whole, per file: "
                 f"wall; CPU | {s}: 2× at" for s in sides) + " |",
             "|---|---|" + "---|---|---|---|" * len(sides)]
    for x in run["sizes"]:
        cells = []
        for s in sides:
            f = x[s]
            met = _met_at(f["goal_met_at_files"])
            cells.append(f"{f['noop_s'].median:.2f} ({f['noop_fixed_s'].median:.2f}) | "
                         f"{f['noop_cpu_s']} ({f['noop_fixed_cpu_s']}) | "
                         f"{f['noop_vs_walk']}×, {f['noop_per_file_vs_walk']}×; "
                         f"{f['noop_cpu_vs_walk']}×, {f['noop_per_file_cpu_vs_walk']}× | {met}")
        lines.append(f"| {x['files']:,} | {x['walk_s'].median:.3f}, {x['walk_cpu_s']:.3f} | "
                     + " | ".join(cells) + " |")
    return lines + [""]


def _figures(n: int, total_bytes: int, jobs: int, hashed: Figure, first: dict[str, Any],
             noop: dict[str, Any], side: dict[str, Any]) -> dict[str, Any]:
    command: Figure = first["first_ingest_s"]
    return {
        "files": n, "mib": round(total_bytes / 2**20, 1), "jobs": jobs,
        "startup_s": first["startup_s"], "hash_only_s": hashed, "first_ingest_s": command,
        "files_per_s": round(n / command.median),
        "catalog_files_per_s": round(n / first["first_catalog_s"].median),
        "first_catalog_s": first["first_catalog_s"], "index_s": first["index_s"],
        "mib_per_s": round(total_bytes / 2**20 / command.median, 1),
        "first_vs_hash": round(command.median / hashed.median, 1),
        "walk_s": noop["walk_s"], **side,
        "ingest_peak_rss_mb": first["peak_rss_mb"],
        "cpu_ms_per_file": first["cpu_ms_per_file"],
        "main_cpu_ms_per_file": first["main_cpu_ms_per_file"],
        "workers_cpu_ms_per_file": first["workers_cpu_ms_per_file"],
    }


# -- the report ---------------------------------------------------------------------------

FIRST_GOAL = 400  # files/s on 2 cores (#13.8)
NOOP_GOAL = 2.0  # times a bare walk


def goal_lines(i: dict[str, Any], goal: Callable[[bool], str]) -> list[str]:
    """The Goals table's ingest rows (also what `--only ingest` replaces in the report)."""
    before = i.get("before")
    was = (f" (before: {before['files_per_s']})" if before else "")
    lines = [f"| first ingest, {i['files']:,} mixed small files ({i['mib']} MiB), search index "
             f"update included | {i['files_per_s']} files/s{was}, {i['mib_per_s']} MiB/s | "
             f"≥ {FIRST_GOAL} files/s on 2 cores | {goal(i['files_per_s'] >= FIRST_GOAL)} |"]
    if "noop_fixed_s" in i:
        was = f" (before: {before['noop_vs_walk']}×)" if before else ""
        lines.append(
            f"| no-op re-ingest vs bare `os.scandir`+`stat` walk, {i['files']:,} files | "
            f"{i['noop_vs_walk']}×{was}; per file {i['noop_per_file_vs_walk']}×, fixed "
            f"{i['noop_fixed_s'].median:.2f} s (see Ingest) | ≤ {NOOP_GOAL:g}× | "
            f"{goal(i['noop_vs_walk'] <= NOOP_GOAL)} |")
    else:  # figures measured before the fixed part was measured apart
        lines.append(f"| no-op re-ingest vs bare `os.scandir`+`stat` walk | {i['noop_vs_walk']}× | "
                     f"≤ {NOOP_GOAL:g}× | {goal(i['noop_vs_walk'] <= NOOP_GOAL)} |")
    return lines


def report_lines(i: dict[str, Any]) -> list[str]:
    """The report's Ingest section."""
    if "noop_fixed_s" not in i:
        return _old_report_lines(i)
    b = i.get("before")
    sides = [b, i] if b else [i]
    head = "| | before | after |" if b else "| | figure |"

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> str:
        return f"| {label} | " + " | ".join(cell(x) for x in sides) + " |"

    lines = ["## Ingest", "",
             f"Measured on {i['measured']} by `python -m benchmarks.run --only ingest"
             f"{' --baseline SRC' if b else ''}` ({i['files']:,} generated mixed files, "
             f"{i['mib']} MiB, {i['jobs']} worker processes), load average (1 min) "
             f"{' → '.join(str(x) for x in i['load'])} on {os.cpu_count()} shared cores during "
             "the run. Seconds are medians (min–max, n); "
             + ("before and after were run alternately, command by command, under the same "
                "load. " if b else "")
             + "`archive --version` is subtracted from every command and `python -c pass` from "
             "the bare walk.", "", head, "|---|" + "---|" * len(sides),
             row(f"hash-only pass ({i['jobs']} threads; the physical floor)",
                 lambda x: str(x["hash_only_s"])),
             row("first ingest, whole command", lambda x: f"{x['first_ingest_s']} = "
                 f"{x['files_per_s']} files/s"),
             row("… of which the catalog (walk, extract, write; the `seconds` it reports)",
                 lambda x: f"{x['first_catalog_s']} = {x['catalog_files_per_s']} files/s"),
             row("… of which the search index update and the rest", lambda x: f"{x['index_s']}"),
             row("ratio first ingest / hash-only", lambda x: f"{x['first_vs_hash']}×"),
             row("first ingest, CPU ms a file: all processes (the command's; its workers')",
                 lambda x: f"{x['cpu_ms_per_file']} ({x['main_cpu_ms_per_file']}; "
                 f"{x['workers_cpu_ms_per_file']})" if "cpu_ms_per_file" in x else "–"),
             row("no-op re-ingest", lambda x: str(x["noop_s"])),
             row(f"… of which fixed (a no-op on {TINY_FILES} files)",
                 lambda x: str(x["noop_fixed_s"])),
             row("no-op CPU seconds (fixed)",
                 lambda x: f"{x['noop_cpu_s']} ({x['noop_fixed_cpu_s']})"),
             row("bare scandir+stat walk", lambda x: str(x["walk_s"])),
             row("no-op / walk: whole command; per file",
                 lambda x: f"{x['noop_vs_walk']}×; {x['noop_per_file_vs_walk']}×"),
             row("peak RSS of the first ingest (largest process)",
                 lambda x: f"{x['ingest_peak_rss_mb']} MB"), ""]
    for run in i.get("noop_runs", []):  # `--only ingest --noop`, newest last
        lines += noop_size_lines(run)
    if i.get("noop_runs"):
        lines.append(NOOP_NOTES)
    return lines + [INGEST_NOTES]


def _old_report_lines(i: dict[str, Any]) -> list[str]:
    return ["## Ingest", "",
            "| | seconds |", "|---|---|",
            f"| hash-only pass ({i['jobs']} threads; the physical floor) | {i['hash_only_s']} |",
            f"| first ingest | {i['first_ingest_s']} |",
            f"| ratio first ingest / hash-only | {i['first_vs_hash']}× |",
            f"| no-op re-ingest | {i['noop_s']} |",
            f"| bare scandir+stat walk | {i['walk_s']} |", "",
            "The files are small (tens of KiB) and in the page cache, so reading them costs "
            "almost nothing and the ratio to the hash-only pass measures per-file work: "
            "identifying, parsing in an isolated worker, writing a row, indexing. On large "
            "media, hashing dominates and ingest approaches the floor.", ""]


NOOP_NOTES = """\
What was done for the no-op (#13.8, 2 December). Profiled before 03:30 UTC (cProfile on a CPU
clock, `-X importtime`; 10,000-20,000 generated files; load 14-18, so CPU seconds): the fixed
part was 0.8-0.9 s of CPU beyond `archive --version`, most of it importing SQLAlchemy and
declaring the models' 24 mapped classes; per file, in process, the walk 1.2-1.3x the bare walk,
the look-up of each 64 folders' catalogued files about 0.4x, the compare 0.2x.

Since `c599dda` a re-run with nothing to do is told and recorded in plain SQL
(`ingest/noop.py`): the same walk; each 64 folders compared with the catalog's rows for them as
two sets of (path, size, mtime), in C; a root's files counted on its (root, folder) index, their
rows read only when some were not found; the run recorded through sqlite3 as the full ingest
records it. It imports neither SQLAlchemy nor the models nor a parser (a test reads the import
log of a real re-run); anything else hands the run to the full ingest before writing.

Where a 20,000-file re-run's time goes now (in process, CPU, quiet machine, 21 rounds
alternated): the walk 1.18x the bare walk (sorting each folder's names, the junk and manifest
tests, a tuple per file); the whole re-run 1.62x: the catalog's rows (about 16 ms for 20,000
files, a fifth of the walk), the two sets, the run's row. Counting on the index instead of
reading every file's status twice took it from 1.79x to 1.62x. The command adds about 0.02 s:
importing what it needs (about 20 ms: sqlite3, the report, the walk, the guard) and opening the
catalog. Committing the run's row costs four fdatasyncs, as every recorded run does, the full
ingest's too: 1-30 ms of wall time each on this machine's disk.
"""


INGEST_NOTES = """\
The files are small (tens of KiB) and in the page cache, so reading them costs almost nothing
and the ratio to the hash-only pass measures per-file work: identifying, parsing in an isolated
worker, writing a row, indexing. On large media, hashing dominates and ingest approaches the
floor.

When the shared machine is loaded, a command spends most of its wall time waiting for a core
(compare the no-op's wall seconds with its CPU seconds above), and a pair of runs can differ by
half: read before and after together, and the CPU and in-process figures below. On a quiet
machine at 100,000 files (`make bench-full`, 21 November) the first ingest ran at 327 files/s
and the no-op at 3.7× the bare walk.

What the profiles showed (1 December, #13.8; py-spy over the whole process tree, cProfile on a
CPU clock in process, pyinstrument and `-X importtime`; 2,000–10,000 generated files, load
average 6–10 on the 2 shared cores):

- **The no-op is almost all fixed cost.** A no-op on 5 files took 0.9–1.7 s of wall time and one
  on 10,000 files 0.1 s more (same rounds). About 85% of the fixed part is importing: SQLAlchemy
  (0.32 s, the least of 6 runs), the models' declarative classes (0.19 s), Alembic through
  `archive/schema.py` (0.24 s, and 0.03 s more to read its script folder on opening; since
  #13.7's change of the same evening a current catalog no longer loads it: in "before" and
  "after" alike above), the ingest modules (0.1 s). The rest: the first ORM statement
  (mapper configuration, 0.02–0.05 s) and about 23 statements for the lock, the run record,
  missing files and the index's freshness (0.13 s in process, compiling each once included).
- **Per file the no-op is near its floor.** In process, everything imported, a no-op of 10,000
  files took 0.11 s against 0.04 s for the bare walk (load 8.8). The `stat` is the largest
  item (the bare walk pays it too), then the walk's own Python (the sorted listing, the junk-name
  test, a tuple per file), the look-up of each folder's catalogued files (1,046 folders, about
  25 µs each on SQLite) and the dictionary test. So at 10,000–20,000 files the 2× goal was
  out of reach of any change inside the ORM ingest: its fixed part alone was 10–30 bare walks,
  most of it importing the ORM (what changed that: the no-op notes above).
- **On PostgreSQL the per-folder look-up was the no-op.** pyinstrument, in process, 3,000 files
  in 1,000 folders: 2.63 s of a 3.12 s no-op was the query for each folder's catalogued files
  and the end of its transaction (two round trips a folder, load 13). A re-run now reads 64
  folders' files in one query: skip-unchanged 2.85 → 0.74 s, the rest being the walk. On
  SQLite, where a query is a function call, the same change measured no difference (0.10 s of
  CPU in process at 10,000 files, before and after).
- **First ingest, workers** (about 60% of all CPU): PDFs, 8% of the files, took 40% of the
  workers' time in pypdf's text extraction (parsing each file's CJK font maps); images 20%
  (Pillow, EXIF, the JPEG damage scan), audio and video 20% (PyAV's probe); 13% was pebble
  sending results back, blocked while the parent's GIL was busy. Workers were idle for about a
  third of the samples, waiting for the parent.
- **First ingest, parent**: writing batches went through SQLAlchemy's ORM bulk insert, whose
  per-row, per-column Python walk cost more than the driver's work: the rows now go in on the
  tables (`write_batch` 0.28 → 0.20 ms of CPU a file, 2,000 files, alternated). Matching the
  first folder name loads pypinyin's dictionary once (about 0.3 s). The search index update at
  the end runs after the catalog is complete, on one core while the other idles: a third of the
  parent's CPU at 1 ms an item here, and several seconds of fixed cost even at 300 files (see
  the table: the index part).

Done since (2 December, #13.8; see "First ingest's CPU" below): PDF text through PDFium
instead of pypdf, and no pypinyin import for romanised folder names. The profile above
overstated pypdf: cProfile's cost per call inflates its pure-Python parsing about tenfold;
timed without a profiler, a generated PDF took 7 ms of CPU, not 60.

What is left, and where: the index update (search/: overlapping it with extraction or making
it cheaper is the largest step for the first-ingest figure); the command's own process, now
more CPU a file than all its workers together (about 0.9 ms a file before the index:
describing, writing batches, pebble's threads); several small files per worker task would
cut pebble's cost per file, but a crash would then have to be retried file by file to name the
file that caused it.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", type=int, nargs="?", default=10_000)
    parser.add_argument("--baseline", metavar="SRC_TREE",
                        help="a source tree of the code before, measured alternately")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--kind", choices=sorted(KIND_CHOICES), default="mixed",
                        help="the generated files: the realistic mix, or small text files only")
    parser.add_argument("--first-only", action="store_true",
                        help="measure the first ingest alone (its wall and CPU seconds)")
    args = parser.parse_args(argv)
    result = run(args.files, args.repeats, baseline=args.baseline, kind=args.kind,
                 first_only=args.first_only)
    print(json.dumps(result, default=lambda o: str(o), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
