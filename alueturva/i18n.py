"""What people read: the languages (Finnish first, Swedish for bilingual Kokkola and the county, English third) and
times, which people always read and type in Finnish time (Europe/Helsinki), while the database and the API keep
timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

Language = Literal["fi", "sv", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# Each language's name in itself, for a language chooser.
LANGUAGE_LABELS: tuple[tuple[Language, str], ...] = (("fi", "Suomeksi"), ("sv", "På svenska"), ("en", "In English"))

HELSINKI = ZoneInfo("Europe/Helsinki")

# "1.12.2026 klo 9.05" is how Finns write a time (no leading zero in the hour); Finland-Swedes "1.12.2026 kl. 9.05".
_TIME_FORMATS = {"fi": "{d}.{m}.{y} klo {H}.{M}", "sv": "{d}.{m}.{y} kl. {H}.{M}", "en": "{d} {mon} {y} {HH}:{M}"}
_DATE_FORMATS = {"fi": "{d}.{m}.{y}", "sv": "{d}.{m}.{y}", "en": "{d} {mon} {y}"}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class AmbiguousLocalTime(ValueError):
    """A Helsinki wall-clock time that does not exist (spring forward) or happens twice (fall back)."""


def helsinki(moment: datetime) -> datetime:
    """An aware moment as Helsinki wall-clock time (daylight saving included)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in time; use an aware one")
    return moment.astimezone(HELSINKI)


def _parts(moment: datetime | date) -> dict[str, str]:
    return {
        "d": str(moment.day),
        "m": str(moment.month),
        "y": str(moment.year),
        "mon": _MONTHS_EN[moment.month - 1],
        "H": str(moment.hour) if isinstance(moment, datetime) else "",
        "HH": f"{moment.hour:02d}" if isinstance(moment, datetime) else "",
        "M": f"{moment.minute:02d}" if isinstance(moment, datetime) else "",
    }


def format_time(moment: datetime, language: str) -> str:
    """``1.12.2026 klo 9.05`` (fi), ``1.12.2026 kl. 9.05`` (sv), ``1 Dec 2026 09:05`` (en), in Helsinki time."""
    return _TIME_FORMATS.get(language, _TIME_FORMATS["fi"]).format(**_parts(helsinki(moment)))


def format_date(day: date | datetime, language: str) -> str:
    """``1.12.2026`` (fi, sv), ``1 Dec 2026`` (en); an aware datetime is taken in Helsinki time."""
    local = helsinki(day) if isinstance(day, datetime) else day
    return _DATE_FORMATS.get(language, _DATE_FORMATS["fi"]).format(**_parts(local))


def format_number(value: float, language: str) -> str:
    """``87,5`` (fi, sv: a decimal comma) or ``87.5`` (en); whole numbers without decimals."""
    text = f"{value:g}"
    return text if language == "en" else text.replace(".", ",")


def from_helsinki(wall_clock: datetime) -> datetime:
    """A time a person typed without a zone, read as Helsinki time, as aware UTC.

    Raises ``AmbiguousLocalTime`` for a time that does not exist (the hour skipped when clocks go forward) or that
    happens twice (the hour repeated when they go back): such a time is reported, never guessed.
    """
    if wall_clock.tzinfo is not None:
        return wall_clock.astimezone(UTC)
    first, second = wall_clock.replace(tzinfo=HELSINKI, fold=0), wall_clock.replace(tzinfo=HELSINKI, fold=1)
    as_typed = wall_clock.replace(tzinfo=None)
    if first.astimezone(UTC).astimezone(HELSINKI).replace(tzinfo=None) != as_typed:
        raise AmbiguousLocalTime(f"{as_typed:%Y-%m-%d %H:%M} does not exist in Finnish time (clocks went forward)")
    if first.utcoffset() != second.utcoffset():
        raise AmbiguousLocalTime(
            f"{as_typed:%Y-%m-%d %H:%M} happens twice in Finnish time (clocks went back): give the UTC offset"
        )
    return first.astimezone(UTC)
