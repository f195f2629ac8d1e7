"""`archive stats`: the programme's figures (#12.13: approximate dates count under their year)."""
from __future__ import annotations

from pathlib import Path

from benchmarks.generators.samples import make_jpeg
from tests.conftest import write_manifest


def test_by_year_counts_an_approximate_date_under_its_stated_year(cli_json, tmp_path: Path):
    folder = tmp_path / "papers"
    for name in ("circa.jpg", "exact.jpg", "range.jpg", "undated.jpg"):
        make_jpeg(folder / name)
    manifest = write_manifest(tmp_path / "manifest.csv", [
        ["path", "title", "date"],
        ["circa.jpg", "约1979年的照片", "circa 1979"],
        ["exact.jpg", "1974年的照片", "1974-05-01"],
        ["range.jpg", "1950至1955年的照片", "1950..1955"],
        ["undated.jpg", "无日期", ""],
    ])
    code, _ = cli_json("ingest", str(folder), "--manifest", str(manifest))
    assert code == 0
    code, stats = cli_json("stats", "--by", "year")
    assert code == 0
    # circa 1979 covers 1974..1984 for searching, but is counted as what it says: 1979.
    assert stats["by_year"] == {"1950": 1, "1974": 1, "1979": 1, "undated": 1}
