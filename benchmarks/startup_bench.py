"""Start-up of the command line, measured side by side in one run: `archive --version` against
`python -c "import click"` (goal: within 3x), and `archive search` on a catalog of 20,000 items
against `archive --version` (goal: within 0.3 s), for each kind of query.

    python -m benchmarks.startup_bench [ITEMS]    # generates a catalog, indexes it, measures
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measure import Figure, figure, run_process

ITEMS = 20_000
RUNS = 9
# One query of each kind a researcher types; the Chinese one needs jieba's dictionary.
QUERIES = {"english word": "rocket", "chinese word": "导弹", "filters only": "type:letter "
           "date:1950..1960", "name in pinyin": "Qian Xuesen"}


def _archive() -> list[str]:
    """The installed `archive` script, as a user runs it (else the module, the same code)."""
    script = Path(sys.executable).with_name("archive")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archive"]


def measure(catalog: Path, runs: int = RUNS,
            env: dict[str, str] | None = None) -> dict[str, Any]:
    """Every command once per round, `runs` rounds, so a machine busy for a moment slows all
    of them alike rather than one figure. `env`: more environment (the search engine)."""
    archive = _archive()
    commands = {"python -c 'import click'": [sys.executable, "-c", "import click"],
                "archive --version": [*archive, "--version"]}
    for kind, query in QUERIES.items():
        commands[f"archive search ({kind})"] = [*archive, "--catalog", str(catalog), "search",
                                                query]
    for args in commands.values():  # warm the page cache and jieba's dictionary cache
        done = run_process(args, env)
        assert done.returncode == 0, (args, done.stdout[-2000:])
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, args in commands.items():
            times[name].append(run_process(args, env).seconds)
    figures = {name: figure(values) for name, values in times.items()}
    click_s, version_s = figures["python -c 'import click'"], figures["archive --version"]
    searches = {k: v for k, v in figures.items() if k.startswith("archive search")}
    return {"figures": figures,
            "version_vs_click": round(version_s.median / click_s.median, 1),
            "search_over_version_s": {k: round(v.median - version_s.median, 3)
                                      for k, v in searches.items()}}


def run(n: int = ITEMS) -> dict[str, Any]:
    """A catalog of n generated items, indexed by `archive reindex`, then measured."""
    from archive.catalog import Catalog
    from archive.settings import load_settings
    from benchmarks.generators.records import generate
    folder = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    try:
        db = folder / "catalog.db"
        catalog = Catalog.open(load_settings({"catalog": str(db)}, environ={}))
        generate(catalog, n)
        catalog.close()
        build = run_process([sys.executable, "-m", "archive", "--catalog", str(db), "reindex",
                             "--quiet"])
        assert build.returncode == 0, build.stdout
        return {"items": n, **measure(db)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report_lines(s: dict[str, Any]) -> list[str]:
    """The start-up section of docs/PERFORMANCE.md."""
    figures: dict[str, Figure] = s["figures"]
    lines = ["## Start-up", "",
             f"Each command run as a user runs it, {next(iter(figures.values())).runs} rounds "
             f"of all of them in turn, on a catalog of {s['items']:,} generated items; "
             "seconds of wall time, median (min–max).", "",
             "| command | seconds | over `archive --version` |", "|---|---|---|"]
    version = figures["archive --version"].median
    for name, fig in figures.items():
        over = f"+{fig.median - version:.3f} s" if name.startswith("archive search") else ""
        lines.append(f"| `{name}` | {fig} | {over} |")
    lines.append("")
    return lines


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else ITEMS)
    print("\n".join(report_lines(result)))
    print(f"archive --version / import click: {result['version_vs_click']}x")
