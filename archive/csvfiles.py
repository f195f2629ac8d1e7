"""CSV files both ways. Reading the archivists' files (manifests, scientist lists) in whatever
encoding Excel or WPS saved them: UTF-8, UTF-8 with BOM, or GB18030 (which covers GBK and
GB2312). Writing every CSV the archive makes (`archive export`, exhibit checklists) one way:
UTF-8 with a BOM, so Excel shows Chinese; text that a spreadsheet would run as a formula made
inert; numbers left numbers."""
from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from archive.errors import UsageError

_ENCODINGS = ("utf-8-sig", "gb18030")
MAX_CSV_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class CsvRow:
    number: int  # the row as a spreadsheet numbers it: the header is row 1
    cells: dict[str, str]  # keyed by lower-cased header
    overflow: bool  # more cells than the header has columns


@dataclass(frozen=True)
class CsvTable:
    path: str
    encoding: str
    header: list[str]
    rows: list[CsvRow]


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 first (a BOM is dropped), then GB18030, then a guess."""
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding), ("utf-8" if encoding == "utf-8-sig" else encoding)
        except UnicodeDecodeError:
            continue
    # Imported here: a guess is rarely needed, and every command that reads CSVs or scientists
    # would otherwise load the detector at start-up.
    from charset_normalizer import from_bytes
    best = from_bytes(data).best()
    if best is None:
        raise UnicodeError("not text in any known encoding")
    return str(best), best.encoding


def read_csv(path: str, required: tuple[str, ...]) -> CsvTable:
    """Read a CSV with a header row; raise UsageError naming the file if it cannot be used."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CSV_BYTES:
        raise UsageError(f"{path} is larger than {MAX_CSV_BYTES // 2**20} MB; split it")
    try:
        text, encoding = decode_csv_bytes(data)
    except UnicodeError:
        raise UsageError(f"{path} is not a text file in UTF-8 or GB18030") from None
    if "\x00" in text:
        raise UsageError(f"{path} contains NUL bytes; save it again as CSV (UTF-8)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise UsageError(f"{path} is empty; it needs a header row") from None
    except csv.Error as exc:
        raise UsageError(f"{path}: {exc}") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise UsageError(f"{path}: the header row lacks the column(s) {', '.join(missing)} "
                         f"(found: {', '.join(h for h in header if h) or 'nothing'})")
    rows: list[CsvRow] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            padded = cells + [""] * (len(header) - len(cells))
            record = {h: padded[i].strip() for i, h in enumerate(header) if h}
            rows.append(CsvRow(number, record, len(cells) > len(header)))
    except csv.Error as exc:
        raise UsageError(f"{path} line {reader.line_num}: {exc}") from None
    return CsvTable(path, encoding, header, rows)


# -- writing -----------------------------------------------------------------------------------

# The BOM is how Excel knows a CSV is UTF-8; without it Chinese comes out garbled.
BOM = "\ufeff"
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralise_cell(value: Any) -> Any:
    """OWASP CSV injection: a text cell that a spreadsheet would run as a formula gets a
    leading apostrophe; numbers stay numbers; None is an empty cell.

    neutralise_cell("=HYPERLINK(...)") -> "'=HYPERLINK(...)"
    neutralise_cell("-1950 draft")     -> "'-1950 draft"
    neutralise_cell(12)                -> 12
    neutralise_cell(-3.5)              -> -3.5
    neutralise_cell(None)              -> ""
    neutralise_cell("钱学森")            -> "钱学森"
    neutralise_cell("a\\0b")            -> "a\\0b" (only a leading NUL is neutralised)
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


class CsvWriter:
    """The one CSV writer: BOM, a header row, then one row per record, every cell neutralised.
    `out` is a text stream (a file opened with newline="", or standard output)."""

    def __init__(self, out: IO[str], columns: Sequence[str],
                 header: Sequence[str] | None = None):
        self.columns = tuple(columns)
        out.write(BOM)
        self._writer = csv.writer(out, lineterminator="\r\n")
        self._writer.writerow(list(header or self.columns))

    def row(self, record: Mapping[str, Any]) -> None:
        """A record by column name (a missing key is an empty cell)."""
        self.values([record.get(c) for c in self.columns])

    def values(self, cells: Sequence[Any]) -> None:
        """A row as cells in column order."""
        self._writer.writerow([neutralise_cell(v) for v in cells])
