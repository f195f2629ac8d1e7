"""Withdrawal (#11 Withdrawal and removal): off search, the site, exhibit exports and `archive
export`; kept in the catalog with files and events; back after `reinstate`."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from test_editing import accessions, small  # noqa: F401 - the fixture is used by name

from archive.models import Event, File, Item
from tests.catalogs import catalog_settings


def site(catalog_path: Path):  # type: ignore[no-untyped-def]
    from web.app import create_app
    app = create_app(catalog_settings(catalog_path))
    app.testing = True
    return app.test_client()


def exported(cli, tmp_path: Path) -> str:
    out = tmp_path / "export.jsonl"
    assert cli("export", "-o", str(out)).exit_code == 0
    return out.read_text("utf-8")


def exhibit_csv(cli, tmp_path: Path) -> str:
    out = tmp_path / "ex.csv"
    result = cli("exhibit", "export", "ex", "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out.read_text("utf-8-sig")


def test_withdrawn_items_leave_every_public_surface_and_come_back(cli, small, tmp_path,  # noqa: F811
                                                                   catalog, catalog_path):
    assert cli("exhibit", "create", "ex", "--title", "展览").exit_code == 0
    assert cli("exhibit", "add", "ex", "QXS-L-00001", "ZJZ-L-00001").exit_code == 0
    client = site(catalog_path)
    assert accessions(cli, "导弹") == ["QXS-L-00001"]
    assert client.get("/items/QXS-L-00001").status_code == 200

    result = cli("withdraw", "qxs-l-00001", "--reason", "捐赠者要求撤回", "--by", "Li Wei")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Withdrawn: QXS-L-00001"
    assert accessions(cli, "导弹") == []
    assert accessions(cli, "导弹", "--include-restricted") == []  # gone from the index itself
    assert client.get("/items/QXS-L-00001").status_code == 404
    assert client.get("/items/QXS-L-00001/files/钱学森/信件/letter_1950.jpg").status_code == 404
    api = client.get("/api/search?q=导弹").get_json()
    assert api["total"] == 0
    assert "QXS-L-00001" not in client.get("/exhibits/ex").get_data(as_text=True)
    assert "QXS-L-00001" not in exhibit_csv(cli, tmp_path)
    assert "ZJZ-L-00001" in exhibit_csv(cli, tmp_path)
    assert "QXS-L-00001" not in exported(cli, tmp_path)
    # The catalog keeps it, its files and its events.
    with catalog.session() as s:
        item = s.scalars(select(Item).where(Item.accession == "QXS-L-00001")).one()
        assert item.withdrawn_reason == "捐赠者要求撤回"
        assert len(s.scalars(select(File).where(File.item_id == item.id)).all()) == 2
        event = s.scalars(select(Event).where(Event.item_id == item.id,
                                              Event.kind == "withdrawal")).one()
        assert (event.agent, event.detail) == ("Li Wei", "捐赠者要求撤回")
    assert cli("show", "QXS-L-00001").exit_code == 0
    listed = cli("items", "list", "--withdrawn", "--json").stdout.splitlines()
    assert [json.loads(x)["accession"] for x in listed] == ["QXS-L-00001"]
    assert json.loads(listed[0])["withdrawn_reason"] == "捐赠者要求撤回"
    assert "withdrawn" in cli("items", "list", "--withdrawn").stdout
    assert len(cli("items", "list").stdout.splitlines()) == 3
    assert "Already withdrawn: QXS-L-00001" in cli("withdraw", "QXS-L-00001", "--reason",
                                                   "again").stdout

    result = cli("reinstate", "QXS-L-00001")
    assert result.stdout.strip() == "Reinstated: QXS-L-00001"
    assert accessions(cli, "导弹") == ["QXS-L-00001"]
    assert client.get("/items/QXS-L-00001").status_code == 200
    assert "QXS-L-00001" in client.get("/exhibits/ex").get_data(as_text=True)
    assert "QXS-L-00001" in exhibit_csv(cli, tmp_path)
    assert "QXS-L-00001" in exported(cli, tmp_path)
    assert cli("items", "list", "--withdrawn").stdout == ""
    with catalog.session() as s:
        kinds = [e.kind for e in s.scalars(select(Event).order_by(Event.id))
                 if e.kind in ("withdrawal", "reinstatement")]
        assert kinds == ["withdrawal", "reinstatement"]


def test_a_withdrawn_item_stays_out_of_a_rebuilt_index(cli, small):  # noqa: F811
    assert cli("withdraw", "QXS-L-00001", "--reason", "error").exit_code == 0
    assert cli("reindex").exit_code == 0
    assert accessions(cli, "导弹", "--include-restricted") == []


def test_withdraw_needs_a_reason_and_known_numbers(cli, small, catalog):  # noqa: F811
    result = cli("withdraw", "QXS-L-00001", "--reason", " ")
    assert result.exit_code == 2 and "--reason" in result.stderr
    result = cli("withdraw", "QXS-L-00001", "NOPE-1", "--reason", "x")
    assert result.exit_code == 2
    assert "no item with accession number NOPE-1; nothing was changed" in result.stderr
    with catalog.session() as s:
        assert s.scalars(select(Item).where(Item.withdrawn_at.is_not(None))).all() == []
    assert "Not withdrawn: QXS-L-00001" in cli("reinstate", "QXS-L-00001").stdout
