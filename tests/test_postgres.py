"""The same ingest, stats and export on PostgreSQL, when ARCHIVE_TEST_POSTGRES_URL names an
empty database it may fill, e.g. postgresql+psycopg://archivist:pw@127.0.0.1/archive_test."""
from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.fields import EXPORT_KEYS

URL = os.environ.get("ARCHIVE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set ARCHIVE_TEST_POSTGRES_URL to run")


@pytest.fixture
def pg_cli(tmp_path, monkeypatch):
    from sqlalchemy import create_engine, text

    # A server catalog keeps its index and derivatives in the working folder: not the checkout.
    monkeypatch.chdir(tmp_path)

    from archive.models import Base
    engine = create_engine(URL)
    Base.metadata.drop_all(engine)
    with engine.begin() as con:
        con.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, ["--catalog", URL, *args], catch_exceptions=False)
    return run


def test_ingest_rerun_stats_export_on_postgres(pg_cli, demo):
    assert pg_cli("scientists", "import", str(demo / "scientists.csv")).exit_code == 0
    coll = demo / "collection"
    first = pg_cli("ingest", str(coll), "--manifest", str(coll / "manifest.csv"), "--json")
    report = json.loads(first.stdout)
    assert (first.exit_code, report["new"], len(report["duplicates"])) == (1, 20, 1)
    again = json.loads(pg_cli("ingest", str(coll), "--json").stdout)
    assert (again["new"], again["unchanged"]) == (0, 20)  # a used manifest is never an item (#12.1)
    stats = json.loads(pg_cli("stats", "--by", "year", "--json").stdout)
    assert stats["items"] == 15 and stats["by_year"]["1956"] == 2
    assert stats["audio_minutes"] == pytest.approx(50 / 60, abs=0.05)
    records = [json.loads(x) for x in pg_cli("export").stdout.splitlines()]
    assert len(records) == 20 and all(tuple(r) == EXPORT_KEYS for r in records)
