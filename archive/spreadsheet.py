"""The spreadsheet round trip for bulk edits: items out as CSV or XLSX (accession plus the
editable fields), the edited sheet back in, every row checked before anything is written.

    sheet_value("'=SUM(A1)")   -> "=SUM(A1)"   (the apostrophe our CSV writer put in)
    sheet_value(1951)          -> "1951"       (a year Excel turned into a number)
    sheet_value(None)          -> ""
    sheet_value(datetime(1950, 3, 15)) -> "1950-03-15"
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.cells import EDITABLE_FIELDS
from archive.fields import ITEM_FIELDS
from archive.csvfiles import CsvRow, read_csv
from archive.edits import Editor, FieldChange, read_values
from archive.errors import RowError, SpreadsheetError, UsageError
from archive.exhibit_export.tabular import write_table_csv, write_table_xlsx
from archive.models import Item, Scientist

SHEET_COLUMNS: tuple[str, ...] = ("accession", *EDITABLE_FIELDS)
_WIDTHS = {f.name: f.width for f in ITEM_FIELDS}
_NEUTRALISED = ("'=", "'+", "'-", "'@", "'\t", "'\r", "'\0")
_CHUNK = 500
FORMATS = ("csv", "xlsx")


def sheet_value(value: Any) -> str:
    """A cell as read from CSV or XLSX -> the text a person meant (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if text.startswith(_NEUTRALISED):
        return text[1:]
    return text


# -- export -----------------------------------------------------------------------------------

def _rows(s: Session, accessions: list[str] | None) -> Iterator[list[Any]]:
    query = (select(Item.accession, *(Scientist.name if f == "scientist" else getattr(Item, f)
                                      for f in EDITABLE_FIELDS))
             .outerjoin(Scientist, Item.scientist_id == Scientist.id))
    if accessions is None:
        for row in s.execute(query.order_by(Item.accession).execution_options(yield_per=_CHUNK)):
            yield ["" if v is None else v for v in row]
        return
    for start in range(0, len(accessions), _CHUNK):
        chunk = accessions[start:start + _CHUNK]
        found = {r[0]: r for r in s.execute(query.where(Item.accession.in_(chunk)))}
        for accession in chunk:  # in the search's order
            if accession in found:
                yield ["" if v is None else v for v in found[accession]]


def export_items(s: Session, path: Path, fmt: str, accessions: list[str] | None = None) -> int:
    """Write one row per item (every item, or these in this order); returns the count."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use csv or xlsx")
    rows = _rows(s, accessions)
    if fmt == "csv":
        return write_table_csv(path, SHEET_COLUMNS, rows)
    return write_table_xlsx(path, "items", SHEET_COLUMNS, rows,
                            [_WIDTHS[c] for c in SHEET_COLUMNS])


# -- import -----------------------------------------------------------------------------------

def _xlsx_rows(path: str) -> tuple[list[str], list[CsvRow]]:
    from openpyxl import load_workbook
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise UsageError(f"cannot read {path} as XLSX ({type(exc).__name__}: {exc}); save it "
                         "again from the spreadsheet as .xlsx or .csv") from None
    try:
        lines = wb.worksheets[0].iter_rows(values_only=True)
        first = next(lines, None)
        if first is None:
            raise UsageError(f"{path} is empty; it needs a header row")
        header = [sheet_value(h).strip().lower() for h in first]
        rows = []
        for number, values in enumerate(lines, start=2):
            cells = [sheet_value(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            padded = cells + [""] * (len(header) - len(cells))
            rows.append(CsvRow(number, {h: padded[i].strip() for i, h in enumerate(header) if h},
                               any(c.strip() for c in cells[len(header):])))
        return header, rows
    finally:
        wb.close()


def read_sheet(path: str) -> tuple[list[str], list[CsvRow]]:
    """Header and rows of a CSV (UTF-8, UTF-8 with BOM or GB18030) or an XLSX file."""
    if not os.path.isfile(path):
        raise UsageError(f"no file {path}")
    if path.lower().endswith((".xlsx", ".xlsm")):
        header, rows = _xlsx_rows(path)
    else:
        table = read_csv(path, required=())
        header, rows = table.header, [CsvRow(r.number, {k: sheet_value(v) for k, v in
                                                         r.cells.items()}, r.overflow)
                                      for r in table.rows]
    if "accession" not in header:
        raise UsageError(f"{path}: the header row lacks the column accession (found: "
                         f"{', '.join(h for h in header if h) or 'nothing'})")
    unknown = [h for h in header if h and h not in SHEET_COLUMNS]
    if unknown:
        raise UsageError(f"{path}: unknown column(s) {', '.join(unknown)}; the columns are "
                         f"{', '.join(SHEET_COLUMNS)} (leave out those you do not change)")
    return header, rows


@dataclass(frozen=True)
class _Planned:
    row: int
    item: Item
    values: dict[str, Any]
    changes: list[FieldChange]


@dataclass(frozen=True)
class ImportResult:
    rows: int
    changes: list[FieldChange]
    written: bool


def import_items(s: Session, path: str, dry_run: bool = False,
                 agent: str | None = None) -> ImportResult:
    """Read the sheet, check every row (SpreadsheetError listing each bad one by its row
    number, nothing written), then write the fields that differ, unless `dry_run`."""
    header, rows = read_sheet(path)
    fields = [h for h in header if h in EDITABLE_FIELDS]
    editor = Editor(s, agent, detail=f"items import {os.path.basename(path)}")
    planned, bad = _plan(editor, rows, fields)
    if bad:
        raise SpreadsheetError(path, bad)
    changes = [c for p in planned for c in p.changes]
    if not dry_run:
        for p in planned:
            if p.changes:
                editor.detail = f"items import {os.path.basename(path)} row {p.row}"
                editor.apply(p.item, p.values)
    return ImportResult(len(rows), changes, written=not dry_run and bool(changes))


def _plan(editor: Editor, rows: Iterable[CsvRow], fields: Sequence[str]
          ) -> tuple[list[_Planned], list[RowError]]:
    planned: list[_Planned] = []
    bad: list[RowError] = []
    seen: dict[str, int] = {}
    for row in rows:
        errors: list[str] = []
        if row.overflow:
            errors.append("more cells than the header has columns")
        accession = row.cells.get("accession", "").strip()
        item = None
        if not accession:
            errors.append("the accession number is empty")
        else:
            try:
                item = editor.item(accession)
            except UsageError:
                errors.append(f"no item with accession number {accession!r}")
        if item is not None and item.accession in seen:
            errors.append(f"{item.accession} is already in row {seen[item.accession]}")
            item = None
        values: dict[str, Any] = {}
        for field in fields:
            try:
                values.update(read_values({field: row.cells.get(field, "")}, editor.known))
            except ValueError as exc:
                errors.append(str(exc))
        if errors or item is None:
            bad.append(RowError(row.number, "; ".join(errors)))
            continue
        seen[item.accession] = row.number
        planned.append(_Planned(row.number, item, values, editor.plan(item, values)))
    return planned, bad
