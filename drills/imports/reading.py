"""An exercise log file as a header and rows of cells: CSV (UTF-8, with or without a BOM, or Windows-1252; `;` or
`,`) or an Excel workbook (`.xlsx`)."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

from alueturva.errors import Invalid
from contacts.roster_csv import restore

MAX_ROWS = 100_000
XLSX_MAGIC = b"PK\x03\x04"  # a workbook is a zip archive

Cell = str | datetime


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, list[Cell]]]  # (row number in the file, the header being 1; cells)
    encoding: str  # utf-8, windows-1252 or xlsx


def read_table(data: bytes, *, filename: str, sheet: str | None) -> Table:
    if not data.strip():
        raise Invalid(f"{filename} is empty")
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return _workbook(data, filename=filename, sheet=sheet)
    return _csv(data, filename=filename)


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (a BOM allowed) when the bytes are UTF-8; otherwise Windows-1252, which Finnish Excel writes."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict"), "windows-1252"


def _csv(data: bytes, *, filename: str) -> Table:
    try:
        text, encoding = _decode(data)
    except UnicodeDecodeError as exc:
        raise Invalid(f"{filename} is neither UTF-8 nor Windows-1252 (byte {exc.start}); save it as CSV UTF-8") from exc
    first_line = text.lstrip().splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [column.strip() for column in next(reader)]
        rows: list[tuple[int, list[Cell]]] = []
        for values in reader:
            if any(value.strip() for value in values):
                _check_size(rows, filename)
                rows.append((reader.line_num, [restore(value.strip()) for value in values]))
    except csv.Error as exc:
        raise Invalid(f"{filename}: line {reader.line_num} cannot be read as CSV: {exc}") from exc
    return Table(header, rows, encoding)


def _check_size(rows: list[tuple[int, list[Cell]]], filename: str) -> None:
    if len(rows) >= MAX_ROWS:
        raise Invalid(f"{filename} has more than {MAX_ROWS:,} rows; split it")


def _cell(value: object) -> Cell:
    """A workbook cell: a date and time stays one (without a zone: Finnish time), anything else becomes text."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _workbook(data: bytes, *, filename: str, sheet: str | None) -> Table:
    from openpyxl import load_workbook  # loaded only for a workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise Invalid(f"{filename} cannot be read as an Excel workbook (.xlsx): {exc}") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise Invalid(f"{filename} has no sheet '{sheet}'; its sheets: {', '.join(book.sheetnames)}")
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        lines = worksheet.iter_rows(values_only=True)
        header = [str(value or "").strip() for value in next(lines, ())]
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(lines, start=2):
            cells = [_cell(value) for value in values]
            if any(cell != "" for cell in cells):
                _check_size(rows, filename)
                rows.append((number, cells))
    finally:
        book.close()
    return Table(header, rows, "xlsx")
