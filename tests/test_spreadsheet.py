"""The spreadsheet round trip (#11 Editing): items out as CSV/XLSX, edited in a real workbook,
checked row by row, read back; formula-safe both ways."""
from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from test_editing import accessions, item, small  # noqa: F401 - the fixture is used by name

from archive.models import Event
from archive.spreadsheet import SHEET_COLUMNS, sheet_value


def test_sheet_values_read_back_as_typed():
    import datetime as dt
    assert sheet_value("'=SUM(A1)") == "=SUM(A1)"
    assert sheet_value("'-1950 draft") == "-1950 draft"
    assert sheet_value("it's") == "it's"
    assert sheet_value(1951) == "1951" and sheet_value(1951.0) == "1951"
    assert sheet_value(dt.datetime(1950, 3, 15)) == "1950-03-15"
    assert sheet_value(None) == ""


def test_xlsx_round_trip_dry_run_first(cli, small, catalog, tmp_path):  # noqa: F811
    sheet = tmp_path / "items.xlsx"
    result = cli("items", "export", "-o", str(sheet))
    assert result.exit_code == 0, result.output
    wb = load_workbook(sheet)
    ws = wb.active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == SHEET_COLUMNS
    assert [r[0] for r in rows[1:]] == ["QXS-L-00001", "QXS-P-00001", "ZJZ-L-00001"]
    assert rows[1][1:4] == ("letter 1950", "1950", "钱学森")
    ws.cell(row=2, column=2).value = "钱学森致友人信"     # title
    ws.cell(row=2, column=3).value = 1951                 # date, typed as a number
    ws.cell(row=4, column=6).value = "限制"               # access
    ws.cell(row=4, column=9).value = "Box 3, Folder 12"   # location
    wb.save(sheet)

    result = cli("items", "import", str(sheet), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "QXS-L-00001: title: letter 1950 → 钱学森致友人信",
        "QXS-L-00001: date: 1950 → 1951",
        "ZJZ-L-00001: access: open → restricted",
        "ZJZ-L-00001: location: ∅ → Box 3, Folder 12"]
    assert "Would change 4 field(s) of 2 item(s)" in result.stderr
    assert item(catalog, "QXS-L-00001").title == "letter 1950"  # nothing written

    result = cli("items", "import", str(sheet), "--by", "Li Wei")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 4
    assert item(catalog, "QXS-L-00001").title == "钱学森致友人信"
    assert item(catalog, "ZJZ-L-00001").access == "restricted"
    assert accessions(cli, "友人信") == ["QXS-L-00001"]
    assert accessions(cli, "卫星") == []  # restricted now
    with catalog.session() as s:
        events = s.scalars(select(Event).where(Event.kind == "metadata modification")).all()
        assert {(e.field, e.agent) for e in events} == {
            ("title", "Li Wei"), ("date", "Li Wei"), ("access", "Li Wei"),
            ("location", "Li Wei")}
        assert all((e.detail or "").startswith("items import items.xlsx row ") for e in events)
    # Importing the same sheet again changes nothing.
    result = cli("items", "import", str(sheet))
    assert result.stdout == "" and "Changed 0 field(s)" in result.stderr


def test_every_bad_row_is_listed_and_nothing_is_written(cli, small, catalog, tmp_path):  # noqa: F811
    sheet = tmp_path / "edits.csv"
    sheet.write_text("Accession,Title,Type,Date\n"
                     "QXS-L-00001,好标题,letter,1950\n"
                     "QXS-X-99999,x,letter,1950\n"
                     "ZJZ-L-00001,,poem,spring\n"
                     "qxs-l-00001,again,letter,1950\n", "utf-8")
    result = cli("items", "import", str(sheet))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "3 bad row(s); nothing was changed" in lines[0]
    assert lines[1] == "  row 3: no item with accession number 'QXS-X-99999'"
    assert lines[2].startswith("  row 4: ") and "unknown type 'poem'" in lines[2] \
        and "cannot read 'spring' as a date" in lines[2] and "title cannot be empty" in lines[2]
    assert lines[3] == "  row 5: QXS-L-00001 is already in row 2"
    assert item(catalog, "QXS-L-00001").title == "letter 1950"


def test_csv_export_is_formula_safe_and_reads_back_unchanged(cli, small, catalog, tmp_path):  # noqa: F811
    assert cli("edit", "QXS-L-00001", "--title", '=HYPERLINK("http://x","点我")',
               "--description", "-1950 草稿").exit_code == 0
    out = tmp_path / "items.csv"
    assert cli("items", "export", "-o", str(out)).exit_code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM: Excel shows the Chinese
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert rows[1][1] == '\'=HYPERLINK("http://x","点我")'
    assert rows[1][6] == "'-1950 草稿"
    result = cli("items", "import", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert item(catalog, "QXS-L-00001").title.startswith("=HYPERLINK")


def test_gb18030_csv_and_only_the_columns_given(cli, small, catalog, tmp_path):  # noqa: F811
    sheet = tmp_path / "gbk.csv"
    sheet.write_bytes("accession,scientist\nQXS-P-00001,赵九章\n".encode("gb18030"))
    result = cli("items", "import", str(sheet))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "QXS-P-00001: scientist: 钱学森 → 赵九章"
    assert item(catalog, "QXS-P-00001").title == "lab 1956"
    assert item(catalog, "QXS-P-00001").accession == "QXS-P-00001"


def test_unknown_columns_are_refused(cli, small, tmp_path):  # noqa: F811
    sheet = tmp_path / "x.csv"
    sheet.write_text("accession,notes\nQXS-P-00001,x\n", "utf-8")
    result = cli("items", "import", str(sheet))
    assert result.exit_code == 2 and "unknown column(s) notes" in result.stderr
    sheet.write_text("title\nx\n", "utf-8")
    assert "lacks the column accession" in cli("items", "import", str(sheet)).stderr


def test_export_a_query_as_xlsx(cli, small, tmp_path):  # noqa: F811
    assert cli("edit", "ZJZ-L-00001", "--access", "closed").exit_code == 0
    out = tmp_path / "q.xlsx"
    assert cli("items", "export", "type:letter", "-o", str(out)).exit_code == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == ["QXS-L-00001", "ZJZ-L-00001"]
    assert Path(out).stat().st_size > 0
