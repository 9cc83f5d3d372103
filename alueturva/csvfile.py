"""Every CSV file the product writes goes through ``write_csv``: `;`-separated, UTF-8 with a BOM (as Finnish
spreadsheets expect), and every text cell a spreadsheet would run as a formula neutralised.

OWASP's CSV injection guidance: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula (``=HYPERLINK(…)``, ``=cmd|…``); it is written with a leading apostrophe, which spreadsheets show
as text. Reading a file back (the roster and exercise-log imports) takes the apostrophe off again (``restore``).
Numbers the product itself writes (a negative number of seconds) stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def restore(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The file: the header line, then the rows, every text cell neutralised."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return out.getvalue()
