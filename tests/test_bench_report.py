"""`python -m benchmarks.run --render` rewrites the report from the saved figures and keeps what
was written into it by hand or by a partial run (#14.3)."""
from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.run import keep_written, main

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_sections_and_goal_rows_the_renderer_does_not_write_are_kept_in_place():
    old = ("# P\n## Goals\n|a|b|\n|x|1|\n|by hand|3|\n## Notes\nmine\n## Search\nold\n"
           "## Later\nmine too\n")
    new = "# P, new\n## Goals\n|a|b|\n|x|2|\n|y|4|\n## Search\nnew\n## Probing\nfresh\n"
    assert keep_written(old, new) == (
        "# P, new\n## Goals\n|a|b|\n|x|2|\n|by hand|3|\n|y|4|\n## Notes\nmine\n## Search\nnew\n"
        "## Later\nmine too\n## Probing\nfresh\n")


def test_render_keeps_the_reports_hand_written_parts(tmp_path):
    out = tmp_path / "PERFORMANCE.md"
    shutil.copy(DOCS / "PERFORMANCE.md", out)
    shutil.copy(DOCS / "PERFORMANCE.json", tmp_path / "PERFORMANCE.json")
    before = out.read_text(encoding="utf-8")
    assert main(["--render", "--out", str(out)]) == 0
    after = out.read_text(encoding="utf-8")
    headings = [line for line in before.splitlines() if line.startswith("## ")]
    assert [line for line in after.splitlines() if line.startswith("## ")] == headings
    side_by_side = before.split("## Search engines side by side (issue 14)")[1].split("\n## ")[0]
    assert side_by_side in after  # written by `--only search`, not by the renderer
    hand_rows = [line for line in before.split("## Goals")[1].split("\n## ")[0].splitlines()
                 if line.startswith("| Tantivy")]
    assert hand_rows and all(row in after for row in hand_rows)


def _cli_startup(over_s: float, rounds: int = 5) -> dict:
    """Start-up figures as startup_bench.measure returns them: every search `over_s` seconds
    slower than `archive --version`, facets the slowest."""
    from benchmarks import startup_bench
    version = [0.10 + i / 1000 for i in range(rounds)]
    times = {startup_bench.CLICK: [0.08] * rounds, startup_bench.VERSION: version}
    for kind in startup_bench.QUERIES:
        extra = over_s if kind == "facets" else over_s / 2
        times[startup_bench.search_name(kind)] = [v + extra for v in version]
    cpu = {name: [v / 2 for v in values] for name, values in times.items()}
    return {**startup_bench._figures(times, cpu),
            "load": {"before": [1.2, 1.0, 0.9], "after": [1.5, 1.1, 1.0]}}


def test_the_cli_search_at_500000_items_replaces_the_hand_written_goal_row():
    from benchmarks.run import cli_goal_rows, render_side_by_side, splice
    runs = {"500000": {"items": 500_000, "engines": {"tantivy": {"startup": _cli_startup(0.12)}}},
            "20000": {"items": 20_000, "engines": {"tantivy": {"startup": _cli_startup(0.5)}}}}
    rows = cli_goal_rows(runs)
    assert list(rows.values()) == [
        "| `archive search` from the CLI at 500,000 items over `archive --version` | +0.12 s "
        "(slowest: facets; CPU +0.06 s; 5 rounds, load 1.2–1.5; see Search engines side by "
        "side) | ≤ 0.3 s | met |"]  # 20,000 items: the start-up benchmark's own rows
    report = (DOCS / "PERFORMANCE.md").read_text(encoding="utf-8")
    hand = [line for line in report.splitlines()
            if line.startswith("| `archive search` from the CLI at 500,000 items")]
    assert len(hand) == 1  # the row this replaces, written by hand until measured
    after = splice(report, "## Search engines side by side (issue 14)",
                   ["## Search engines side by side (issue 14)", "new"], rows)
    assert hand[0] not in after and list(rows.values())[0] in after
    assert sum(line.startswith("| `archive search` from the CLI at 500,000 items")
               for line in after.splitlines()) == 1
    slow = cli_goal_rows({"500000": {"items": 500_000, "engines": {
        "tantivy": {"startup": _cli_startup(0.45)}}}})
    assert list(slow.values())[0].endswith("| ≤ 0.3 s | **not met** |")
    table = "\n".join(render_side_by_side({"500000": {
        "items": 500_000, "engines": {"tantivy": {
            "build_s": 1.0, "items_per_s": 2, "index_mb": 1.0, "index_peak_rss_mb": 1,
            "startup": _cli_startup(0.12),
            "queries": {"facets": {"median_ms": 1.0, "p95_ms": 2.0}}},
            "whoosh": {"build_s": 1.0, "items_per_s": 2, "index_mb": 1.0,
                       "index_peak_rss_mb": 1,
                       "queries": {"facets": {"median_ms": 1.0, "p95_ms": 2.0}}}}}}))
    assert ("| `archive search` over `archive --version`, slowest kind (CLI, median) | "
            "+0.12 s (facets; CPU +0.06 s; 5 rounds) | not measured |") in table


def test_the_noop_goal_size_says_any_size_when_the_fixed_part_is_nothing():
    """A fixed part within its noise of nothing meets the goal at any size, not "never"."""
    from benchmarks.ingest_bench import _met_at
    assert (_met_at(None), _met_at(0), _met_at(28_000)) == ("never", "any size", "28,000 files")
