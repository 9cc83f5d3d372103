"""An exercise log file as a header and rows of cells: CSV (UTF-8, with or without a BOM, or Windows-1252; `;` or
`,`) or an Excel workbook (`.xlsx`).

Bounded while it is read (docs/security.md): a workbook's unzipped size is checked from its archive before any of it
is parsed, and its XML may declare no DOCTYPE or entity; rows (empty ones included), columns and each cell's length are
capped as they are read, so a small hostile file is refused quickly and in little memory. Control characters are
refused (PostgreSQL text cannot hold NUL; none belongs in a log)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from alueturva.api_types import refuse_control_characters
from alueturva.csvfile import restore
from alueturva.errors import Invalid

MAX_ROWS = 100_000  # rows below the header, empty ones included
MAX_COLUMNS = 100
MAX_CELL_CHARACTERS = 2_000
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # a workbook's parts together, unzipped
MAX_ARCHIVE_MEMBERS = 1_000
XLSX_MAGIC = b"PK\x03\x04"  # a workbook is a zip archive
XML_PARTS = (".xml", ".rels", ".vml")
DECLARATIONS = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)

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
        header = [_text(column, filename, 1, column_number) for column_number, column in enumerate(next(reader), 1)]
        _check_columns(header, filename, 1)
        rows: list[tuple[int, list[Cell]]] = []
        for count, values in enumerate(reader, start=1):
            _check_rows(count, filename)
            _check_columns(values, filename, reader.line_num)
            cells = [_text(value, filename, reader.line_num, n) for n, value in enumerate(values, 1)]
            if any(cells):
                rows.append((reader.line_num, [restore(cell) for cell in cells]))
    except csv.Error as exc:
        raise Invalid(f"{filename}: line {reader.line_num} cannot be read as CSV: {exc}") from exc
    return Table(header, rows, encoding)


def _check_rows(count: int, filename: str) -> None:
    if count > MAX_ROWS:
        raise Invalid(f"{filename} has more than {MAX_ROWS:,} rows (empty ones included); split it")


def _check_columns(values: Sequence[object], filename: str, row: int) -> None:
    if len(values) > MAX_COLUMNS and any(value not in (None, "") for value in values[MAX_COLUMNS:]):
        raise Invalid(f"{filename}: row {row} has more than {MAX_COLUMNS} columns")


def _text(value: str, filename: str, row: int, column: int) -> str:
    """A cell's text, stripped: at most ``MAX_CELL_CHARACTERS``, no control characters."""
    if len(value) > MAX_CELL_CHARACTERS:
        raise Invalid(f"{filename}: row {row}, column {column} is longer than {MAX_CELL_CHARACTERS:,} characters")
    try:
        return refuse_control_characters(value).strip()
    except ValueError as exc:
        raise Invalid(f"{filename}: row {row}, column {column}: {exc}") from exc


def _cell(value: object, filename: str, row: int, column: int) -> Cell:
    """A workbook cell: a date and time stays one (without a zone: Finnish time), anything else becomes text."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _text(str(value), filename, row, column)


def _check_archive(data: bytes, filename: str) -> None:
    """Refuse a workbook whose parts unzip to too much, or whose XML declares a DOCTYPE or an entity, before any
    of it is parsed (each part is read at most to the size its archive declares)."""
    unreadable = f"{filename} cannot be read as an Excel workbook (.xlsx)"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise Invalid(f"{unreadable}: it has more than {MAX_ARCHIVE_MEMBERS:,} parts")
            unzipped = sum(member.file_size for member in members)
            if unzipped > MAX_UNZIPPED_BYTES:
                limit = MAX_UNZIPPED_BYTES // (1024 * 1024)
                raise Invalid(f"{filename} unzips to more than {limit} MB; split it")
            for member in members:
                if not member.filename.lower().endswith(XML_PARTS):
                    continue
                content, part = archive.read(member), member.filename[:100]
                if DECLARATIONS.search(content):
                    raise Invalid(f"{unreadable}: its part {part} declares a DOCTYPE or an entity")
                if b"\x00" in content:
                    raise Invalid(f"{unreadable}: its part {part} is not XML in UTF-8")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        raise Invalid(f"{unreadable}: {str(exc)[:200]}") from exc


def _workbook(data: bytes, *, filename: str, sheet: str | None) -> Table:
    from openpyxl import load_workbook  # loaded only for a workbook

    _check_archive(data, filename)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Invalid:
        raise
    except Exception as exc:  # a hostile or broken workbook can fail anywhere inside the parser
        raise Invalid(f"{filename} cannot be read as an Excel workbook (.xlsx): {str(exc)[:200]}") from exc
    try:
        return _sheet(book, filename=filename, sheet=sheet)
    except Invalid:
        raise
    except Exception as exc:
        raise Invalid(f"{filename} cannot be read as an Excel workbook (.xlsx): {str(exc)[:200]}") from exc
    finally:
        book.close()


def _sheet(book: Any, *, filename: str, sheet: str | None) -> Table:
    if sheet is not None and sheet not in book.sheetnames:
        raise Invalid(f"{filename} has no sheet '{sheet[:200]}'; its sheets: {', '.join(book.sheetnames)[:1000]}")
    worksheet = book[sheet] if sheet is not None else book.worksheets[0]
    # one column and one row past the caps, to see that a file goes past them; never a whole padded sheet (a cell
    # further right is never read: no header column can name it)
    lines = worksheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1, max_row=MAX_ROWS + 2)
    first = next(lines, ())
    _check_columns(first, filename, 1)
    header = [str(_cell(value, filename, 1, n)) for n, value in enumerate(first[:MAX_COLUMNS], 1)]
    rows: list[tuple[int, list[Cell]]] = []
    for number, values in enumerate(lines, start=2):
        _check_rows(number - 1, filename)
        _check_columns(values, filename, number)
        cells = [_cell(value, filename, number, n) for n, value in enumerate(values[:MAX_COLUMNS], 1)]
        if any(cell != "" for cell in cells):
            rows.append((number, cells))
    return Table(header, rows, "xlsx")
