"""The roster CSV file (docs/architecture.md §5): one row per group membership; read (`;` or `,`, UTF-8 with or
without a BOM) and written (`;`, UTF-8 with a BOM, as Finnish spreadsheets expect)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from alueturva.csvfile import restore, write_csv
from alueturva.errors import Invalid

COLUMNS = (
    "organisation",
    "name",
    "title",
    "mobile",
    "email",
    "language",
    "group",
    "role",
    "deputy_of",
    "order",
)
MAX_LENGTHS = {"name": 200, "title": 200, "mobile": 40, "email": 254, "deputy_of": 200}
MAX_ROWS = 20_000


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"the file is not UTF-8 (byte {exc.start} cannot be read); save it as 'CSV UTF-8' and try again"
        ) from exc


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """Rows as ``(line number, {column: value})``; ``;`` or ``,`` separated, UTF-8 with or without a BOM."""
    text = _decode(data)
    if not text.strip():
        raise Invalid("the file is empty; the first line must name the columns: " + ", ".join(COLUMNS))
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [column.strip().lower() for column in next(reader)]
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise Invalid(f"duplicate column(s) in the header: {', '.join(duplicates)}")
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        raise Invalid("; ".join(parts) + f". The columns are: {', '.join(COLUMNS)}")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise Invalid(f"the file has more than {MAX_ROWS} rows; split it")
            line = reader.line_num
            if len(values) != len(header):
                rows.append((line, {"__width__": f"has {len(values)} fields, the header has {len(header)}"}))
                continue
            rows.append((line, {c: restore(v.strip()) for c, v in zip(header, values, strict=True)}))
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num} cannot be read as CSV: {exc}") from exc
    return rows


def write_rows(rows: Iterable[Sequence[str]]) -> str:
    """The file with its header line, in the export format; cells a spreadsheet would run as formulas neutralised."""
    return write_csv(COLUMNS, rows)
