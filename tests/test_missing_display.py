"""A file found missing or changed says so everywhere it is shown: export, stats, show, search
(the site: tests/test_web.py) (#11.2)."""
from __future__ import annotations

import csv
import io
import json

from tests.test_fixity import coll, flip_byte_keep_mtime, ingested  # noqa: F401 - fixture
from tests.catalogs import catalog_settings

WAV = "钱学森/录音/interview.wav"


def _records(cli, fmt: str = "jsonl") -> dict[str, dict]:
    out = cli("export", "--format", fmt).stdout
    rows = [json.loads(line) for line in out.splitlines()] if fmt == "jsonl" \
        else list(csv.DictReader(io.StringIO(out)))
    return {r["path"]: r for r in rows}


def test_missing_and_changed_files_in_export_stats_show_and_search(cli, cli_json, coll):  # noqa: F811
    ingested(cli, coll)
    before = _records(cli)
    assert {r["status"] for r in before.values()} == {"present"}
    assert {r["last_verified"] for r in before.values()} == {None}

    (coll / WAV).unlink()
    flip_byte_keep_mtime(coll / "钱学森" / "信件" / "letter_2.jpg")
    assert cli("verify", "--quiet").exit_code == 1

    records = _records(cli)
    assert records[WAV]["status"] == "missing"
    assert records["钱学森/信件/letter_2.jpg"]["status"] == "changed"
    assert records["钱学森/信件/letter_2.jpg"]["sha256"] == \
        before["钱学森/信件/letter_2.jpg"]["sha256"]  # the catalog keeps what it had
    assert records["钱学森/信件/letter_1.jpg"]["status"] == "present"
    verified = records[WAV]["last_verified"]
    assert verified and verified[:4].isdigit() and "T" in verified
    rows = _records(cli, "csv")
    assert rows[WAV]["status"] == "missing" and rows[WAV]["last_verified"] == verified

    code, stats = cli_json("stats")
    assert code == 0 and stats["missing_files"] == 1 and stats["changed_files"] == 1
    assert stats["files"] == 8  # a missing file is still catalogued
    assert "Missing files: 1   Changed files: 1" in cli("stats").stdout

    accession = records[WAV]["accession"]
    shown = cli("show", accession).stdout
    line = next(x for x in shown.splitlines() if "interview.wav" in x and "file " in x)
    assert "MISSING since " in line and line.endswith(" UTC")
    code, rec = cli_json("show", accession)
    [f] = rec["files"]
    assert f["status"] == "missing" and f["status_since"] and f["last_verified"]
    letter = cli_json("show", records["钱学森/信件/letter_2.jpg"]["accession"])[1]
    assert letter["files"][0]["status"] == "changed"
    assert "status" not in cli_json("show", records["钱学森/信件/letter_1.jpg"]["accession"]
                                    )[1]["files"][0]

    # Search still finds the item (its description is still true) and says the file is gone.
    code, found = cli_json("search", "type:audio")
    assert code == 0 and [h["accession"] for h in found["hits"]] == [accession]
    assert found["hits"][0]["missing"] == [WAV]
    assert f"file missing: {WAV}" in cli("search", "type:audio").stdout
    code, letters = cli_json("search", "type:letter")
    assert all(h["missing"] == [] for h in letters["hits"])


def test_the_site_says_missing_and_never_serves_a_broken_file(cli, coll, catalog_path):  # noqa: F811
    from urllib.parse import quote

    from web.app import create_app
    ingested(cli, coll)
    (coll / WAV).unlink()
    assert cli("verify", "--quiet").exit_code == 1
    gone_unnoticed = coll / "钱学森" / "信件" / "letter_4.jpg"
    gone_unnoticed.unlink()  # after the check: only the disk knows
    records = _records(cli)
    app = create_app(catalog_settings(catalog_path))
    app.testing = True
    client = app.test_client()

    wav = records[WAV]
    page = client.get(f"/items/{wav['accession']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    since = wav["last_verified"][:10]
    assert "文件缺失 File missing" in html and f"since {since}" in html
    file_url = f"/items/{wav['accession']}/files/{WAV}"
    assert quote(file_url) not in html and "<audio" not in html  # no player, no link to it
    served = client.get(file_url)
    assert served.status_code == 404
    text = served.get_data(as_text=True)
    assert "File missing" in text and WAV in text and wav["accession"] in text

    letter = records["钱学森/信件/letter_4.jpg"]
    html = client.get(f"/items/{letter['accession']}").get_data(as_text=True)
    assert "文件缺失 File missing" in html and 'class="zoomable"' not in html
    assert quote("/files/钱学森/信件/letter_4.jpg") not in html
    assert client.get(f"/items/{letter['accession']}/files/钱学森/信件/letter_4.jpg"
                      ).status_code == 404

    present = records["钱学森/信件/letter_1.jpg"]
    html = client.get(f"/items/{present['accession']}").get_data(as_text=True)
    assert "File missing" not in html and 'class="zoomable"' in html
    assert quote("/files/钱学森/信件/letter_1.jpg") in html
    assert client.get(f"/items/{present['accession']}/files/钱学森/信件/letter_1.jpg"
                      ).status_code == 200

    hits = client.get("/api/search?q=type:audio").get_json()["hits"]
    assert [h["missing"] for h in hits] == [[WAV]]
    assert "文件缺失 file missing" in client.get("/search?q=type:audio").get_data(as_text=True)
