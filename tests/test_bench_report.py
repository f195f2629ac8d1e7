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
