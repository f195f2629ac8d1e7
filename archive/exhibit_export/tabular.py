"""CSV (the archive's one CSV writer, archive/csvfiles.py: UTF-8 with BOM, formula-safe) and
XLSX (openpyxl) tables and checklists."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from archive.csvfiles import CsvWriter
from archive.exhibit_export.rows import COLUMNS, ExhibitExport

_HEADERS = {"position": "No.", "sha256": "SHA-256"}


def write_table_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Any table as a CSV file through the one CSV writer. Streams the rows; returns how many."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = CsvWriter(fh, header)
        for row in rows:
            writer.values(row)
            count += 1
    return count


def write_csv(export: ExhibitExport, path: Path) -> None:
    write_table_csv(path, [_HEADERS.get(c, c) for c in COLUMNS],
                    ([row.cells()[c] for c in COLUMNS] for row in export.rows))


def write_table_xlsx(path: Path, sheet: str, header: Sequence[str],
                     rows: Iterable[Sequence[Any]], widths: Sequence[int]) -> int:
    """Any table as XLSX, streamed (openpyxl's write-only mode: flat memory at any size):
    header bold and frozen, set widths, every text stored as text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.freeze_panes = "A2"
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    bold = []
    for name in header:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        bold.append(cell)
    ws.append(bold)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cells.append(cell)
        ws.append(cells)
        count += 1
    wb.save(path)
    return count


_WIDTHS = {"position": 6, "section": 16, "accession": 16, "title": 40, "scientist": 12,
           "type": 12, "date": 12, "description": 50, "caption": 50, "extent": 16,
           "location": 20, "rights": 20, "access": 10, "collection": 20, "files": 50,
           "sha256": 20,
           "thumbnail": 22}
THUMB_PX = 96


def write_xlsx(export: ExhibitExport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XlImage
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = export.slug[:31]
    ws.append([_HEADERS.get(c, c) for c in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    thumb_col = COLUMNS.index("thumbnail") + 1
    for r, row in enumerate(export.rows, start=2):
        cells = row.cells()
        for c, name in enumerate(COLUMNS, start=1):
            value = cells[name]
            cell = ws.cell(row=r, column=c)
            if name == "thumbnail":
                continue
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row.thumbnail:
            image = XlImage(row.thumbnail)
            scale = THUMB_PX / max(image.width, image.height)
            image.width, image.height = int(image.width * scale), int(image.height * scale)
            ws.add_image(image, f"{get_column_letter(thumb_col)}{r}")
            ws.row_dimensions[r].height = THUMB_PX * 0.75 + 4  # points
    for c, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = _WIDTHS[name]
    wb.save(path)
