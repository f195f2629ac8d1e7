"""Start-up of the command line, measured side by side in one run: `archive --version` against
`python -c "import click"` (goal: within 3x), and `archive search` on a catalog of 20,000 items
against `archive --version` (goal: within 0.3 s), for each kind of query. With `before`, an
older commit's code runs the same commands in the same rounds, for a before/after pair measured
under the same load.

    python -m benchmarks.startup_bench [ITEMS] [--before COMMIT]
    python -m benchmarks.run --only startup [--before COMMIT]   # the same, into the report
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.measure import Figure, figure, run_process

ITEMS = 20_000
RUNS = 9
CLICK = "python -c 'import click'"
VERSION = "archive --version"
# One query of each kind a researcher types (the kinds of benchmarks/search_bench.py), in words
# of the generated records: a Chinese word is also looked up as a scientist's name in pinyin.
QUERIES: dict[str, list[str]] = {
    "chinese word": ["导弹"], "english word": ["rocket"], "name in pinyin": ["Qian Xuesen"],
    "phrase": ['"人造卫星"'], "fielded": ["scientist:钱学森", "type:letter", "火箭"],
    "date range": ["date:1950..1960"], "facets": ["导弹", "--facets"],
    # A name or word of three or more characters is cut into words by jieba (over its table).
    "name in characters": ["钱学森"], "longer chinese word": ["人造卫星"]}


def _archive() -> list[str]:
    """The installed `archive` script, as a user runs it (else the module, the same code)."""
    script = Path(sys.executable).with_name("archive")
    return [str(script)] if script.exists() else [sys.executable, "-m", "archive"]


def search_name(kind: str) -> str:
    return f"archive search ({kind})"


@contextmanager
def checkout(commit: str) -> Iterator[Path]:
    """The project's code at `commit`, in a temporary folder (`git archive`): run with it first on
    PYTHONPATH, the installed packages are the same, only the project's code is older."""
    root = Path(__file__).resolve().parent.parent
    folder = Path(tempfile.mkdtemp(prefix="startup-before-"))
    try:
        tar = subprocess.run(["git", "-C", str(root), "archive", commit], check=True,
                             capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=tar, check=True)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _load() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def measure(catalog: Path, runs: int = RUNS, env: dict[str, str] | None = None,
            before: Path | None = None) -> dict[str, Any]:
    """Every command once per round, `runs` rounds, so a machine busy for a moment slows all
    of them alike rather than one figure. `env`: more environment (the search engine).
    `before`: a folder of older code (checkout()), whose commands run in the same rounds."""
    archive = _archive()
    commands = {CLICK: [sys.executable, "-c", "import click"], VERSION: [*archive, "--version"]}
    for kind, words in QUERIES.items():
        commands[search_name(kind)] = [*archive, "--catalog", str(catalog), "search", *words]
    # With Python's bytecode caches, as an installed copy has them: where the environment
    # sets PYTHONDONTWRITEBYTECODE (this machine's does), every run would compile the project's
    # modules from source again. The warm-up run writes them.
    cached = {**(env or {}), "PYTHONDONTWRITEBYTECODE": ""}
    # The older code comes first on the path (the installed `archive` script puts its own
    # folder first, not the working one).
    variants = {"after": cached}
    if before is not None:
        variants["before"] = {**cached, "PYTHONPATH": str(before)}
        found = subprocess.run([sys.executable, "-c", "import archive; print(archive.__file__)"],
                               env={**os.environ, **variants["before"]}, capture_output=True,
                               text=True, cwd=tempfile.gettempdir(), check=True).stdout
        assert found.startswith(str(before)), f"the older code is not the one imported: {found}"
    for variant_env in variants.values():  # warm the page cache and jieba's dictionary
        for args in commands.values():
            done = run_process(args, variant_env)
            assert done.returncode == 0, (args, done.stdout[-2000:])
    load_before = _load()
    times: dict[str, dict[str, list[float]]] = {
        v: {name: [] for name in commands} for v in variants}
    cpu: dict[str, dict[str, list[float]]] = {
        v: {name: [] for name in commands} for v in variants}
    for _ in range(runs):
        for name, args in commands.items():
            for v, variant_env in variants.items():
                done = run_process(args, variant_env)
                times[v][name].append(done.seconds)
                cpu[v][name].append(done.cpu_s)
    load_after = _load()
    out = _figures(times["after"], cpu["after"])
    out["load"] = {"before": load_before, "after": load_after}
    if before is not None:
        out["before"] = _figures(times["before"], cpu["before"])
    return out


def _figures(times: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict[str, Any]:
    """Wall-time figures (the goals), and CPU seconds (user + system), which a machine shared
    with other work slows much less."""
    figures = {name: figure(values) for name, values in times.items()}
    cpu_figures = {name: figure(values) for name, values in cpu.items()}
    click_s, version_s = figures[CLICK], figures[VERSION]
    searches = {k: v for k, v in figures.items() if k.startswith("archive search")}
    return {"figures": figures, "cpu": cpu_figures,
            "version_vs_click": round(version_s.median / click_s.median, 1),
            "search_over_version_s": {k: round(v.median - version_s.median, 3)
                                      for k, v in searches.items()},
            "search_over_version_cpu_s": {
                k: round(cpu_figures[k].median - cpu_figures[VERSION].median, 3)
                for k in searches}}


def run(n: int = ITEMS, before: str | None = None, runs: int = RUNS) -> dict[str, Any]:
    """A catalog of n generated items, indexed by `archive reindex`, then measured; with
    `before`, that commit's code too."""
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
        if before is None:
            return {"items": n, **measure(db, runs)}
        with checkout(before) as code:
            return {"items": n, "before_commit": before, **measure(db, runs, before=code)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# What the profiles (`python -X importtime`, cProfile of `archive search` on the 20,000-item
# catalog) showed and what was done, and what is left: the report's prose under the table.
NOTES = """What the profiles showed, and what was done (#13.7):

- Every command that opens a catalog imported Alembic to compare the catalog's schema revision
  with the newest (0.3 s under this load): that is now one query against `archive.schema.HEAD`,
  and Alembic is imported only to upgrade an older catalog.
- A Chinese word is also looked up as a scientist's name in pinyin, which imported pypinyin,
  whose package loads its table of phrases (0.3–0.7 s) that reading a name character by
  character never uses: the readings now come from its character table alone (the same
  readings for every character, a test compares them).
- Folding traditional characters built its table from OpenCC at every start (0.1–0.4 s under
  load): it ships as `search/t2s.txt`, held equal to OpenCC's by a test.
- The CLI search opened its index twice, and opening reads it through to find damage.
- The figures are taken with Python's bytecode caches, as an installed copy has them: this
  machine's environment sets `PYTHONDONTWRITEBYTECODE`, under which every run compiled the
  project's own modules from source again (0.1–0.15 s of every command).

- (2 December) Importing SQLAlchemy and the catalog's models (0.4 s on a quiet machine), and
  the ORM compiling its first queries, were most of what a search added to `archive
  --version`. A search now reads the catalog through `archive/catalog_reader.py`: on a current
  index of an SQLite catalog, plain SQL through Python's `sqlite3` (the schema revision, the
  marks that say whether the index is behind, the rows the page of hits shows), so neither
  SQLAlchemy nor the models are imported (tests/test_catalog_reader.py checks the import log);
  only an index that must catch up first opens the full catalog. The site and the writers run
  the same SQL through SQLAlchemy Core. `archive.access`, `archive.page_text` and
  `archive.schema` no longer import SQLAlchemy at import, only in their SQL functions.
- Nothing a CLI search does grows with the catalog (a 500,000-item one starts as a 20,000-item
  one): every catalog query it makes is an index look-up (a test reads SQLite's query plans
  of them), and opening the index reads one document and one posting list per segment.

- (2 December) An unquoted run of three or more Chinese characters (a name such as 钱学森, a
  word such as 人造卫星) is cut into words by jieba for the score, and loading jieba's
  dictionary (its marshalled cache, half a million words and prefixes) cost 0.5 CPU s more.
  jieba's segmenter only asks its dictionary for the frequencies of the query's substrings and
  for the total: a query now cuts with jieba's own `Tokenizer` whose `FREQ` reads an SQLite
  table of that dictionary key by key (some tens of look-ups), `search/jieba_table.py`. The
  table (9 MB) is made by the first search that needs it from the dictionary the index side
  loads (that search loads the dictionary as before, and 0.5 s more to write the table), in
  `archive-jieba-<uid>/` in the temporary folder, keyed by jieba's version and dict.txt's size
  and mtime; a table that cannot be made or read means the dictionary is loaded, as before.
  tests/test_jieba_table.py holds the words equal to jieba's for 2,300 queries and checks that
  a real `archive search 钱学森` does not load the dictionary. The two queries are kinds of
  this benchmark (`name in characters`, `longer chinese word`).
- (2 December) Importing jieba was 0.16 s, four fifths of it `pkg_resources`, which jieba's
  `_compat` imports only to open its own files and does without by opening them by path: it is
  blocked for jieba's import alone (0.16 → 0.02 s; a test checks jieba still reads its
  dictionary and the process can import pkg_resources afterwards).

What is left: a search's own work over `archive --version` is now 0.06–0.15 s on a quiet
machine (importing tantivy and our search modules, opening the index, the catalog queries, the
query itself); a PostgreSQL catalog still opens the full catalog (SQLAlchemy and the models,
about 0.4 s) and only its reads go through Core.

The previous round's figures (1 December, Whoosh the default engine, load 4–9): `archive
--version` 0.10 s; a search +0.63 to +0.80 s over it, a Chinese word +2.0 s.
"""


def _cell(fig: Figure, version: float, search: bool) -> str:
    over = f"; +{fig.median - version:.2f} s" if search else ""
    return f"{fig}{over}"


def _cpu_cell(s: dict[str, Any], name: str) -> str:
    """CPU seconds, median, and for a search its difference over `archive --version`."""
    if "cpu" not in s:
        return ""
    fig: Figure = s["cpu"][name]
    over = s["search_over_version_cpu_s"].get(name)
    return f"{fig.median:.3f}" + (f"; +{over:.2f}" if over is not None else "")


def report_lines(s: dict[str, Any]) -> list[str]:
    """The start-up section of docs/PERFORMANCE.md."""
    figures: dict[str, Figure] = s["figures"]
    runs = next(iter(figures.values())).runs
    before = s.get("before")
    load = s.get("load")
    lines = ["## Start-up", "",
             f"Each command run as a user runs it, {runs} rounds of all of them in turn, on a "
             f"catalog of {s['items']:,} generated items indexed by Tantivy (the default "
             "engine); seconds of wall time, median (min–max, n), and for searches the "
             "difference of medians over `archive --version`; and the median CPU seconds (user "
             "+ system) of the same runs, which the other work on a shared machine slows much "
             "less."]
    if load:
        lines.append(f"Load average (1, 5, 15 min) on the shared 2 cores: {load['before']} at "
                     f"the start, {load['after']} at the end.")
    if before:
        lines.append(f"Before: the code of commit {s['before_commit']}, run in the same rounds "
                     "(each command by the old code, then by the new), on the same catalog "
                     "and index.")
    lines += [""]
    if before:
        bf: dict[str, Figure] = before["figures"]
        lines += ["| command | wall s, before | wall s, after | CPU s, before | CPU s, after |",
                  "|---|---|---|---|---|"]
        for name, fig in figures.items():
            search = name.startswith("archive search")
            lines.append(f"| `{name}` | {_cell(bf[name], bf[VERSION].median, search)} | "
                         f"{_cell(fig, figures[VERSION].median, search)} | "
                         f"{_cpu_cell(before, name)} | {_cpu_cell(s, name)} |")
    else:
        lines += ["| command | wall s | CPU s |", "|---|---|---|"]
        for name, fig in figures.items():
            search = name.startswith("archive search")
            lines.append(f"| `{name}` | {_cell(fig, figures[VERSION].median, search)} | "
                         f"{_cpu_cell(s, name)} |")
    lines += ["", "The queries: " + "; ".join(f"{kind} `{' '.join(words)}`"
                                               for kind, words in QUERIES.items()) + ".", "",
              *NOTES.splitlines(), ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("items", nargs="?", type=int, default=ITEMS)
    parser.add_argument("--before", metavar="COMMIT", help="also measure this commit's code")
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args(argv)
    result = run(args.items, args.before, args.runs)
    print("\n".join(report_lines(result)))
    print(f"archive --version / import click: {result['version_vs_click']}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
