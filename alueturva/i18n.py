"""What people read: the languages (Finnish first, Swedish for bilingual Kokkola and the county, English third) and
times, which people always read and type in Finnish time (Europe/Helsinki), while the database and the API keep
timezone-aware UTC.

Numbers, dates, times and plural forms come from Babel (the Unicode CLDR data): Finnish and Finland-Swedish
conventions ("1 234,5", "1.12.2026 klo 9.05", "1.12.2026 kl. 9.05"), British English for the third language
("1,234.5", "1 Dec 2026 09:05")."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.numbers import format_currency, format_decimal
from babel.numbers import format_percent as babel_percent

Language = Literal["fi", "sv", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# Each language's name in itself, for a language chooser.
LANGUAGE_LABELS: tuple[tuple[Language, str], ...] = (("fi", "Suomeksi"), ("sv", "På svenska"), ("en", "In English"))

HELSINKI = ZoneInfo("Europe/Helsinki")

# The CLDR locale of each language: Finnish, Swedish as written in Finland, British English.
LOCALES: dict[Language, str] = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
# CLDR's date and time patterns, joined the way each language writes a time of day after a date ("klo", "kl.").
_DATE_STYLE = {"fi": "short", "sv": "short", "en": "medium"}
_TIME_PATTERN = {"fi": "H.mm", "sv": "H.mm", "en": "HH:mm"}
_AT = {"fi": " klo ", "sv": " kl. ", "en": " "}


class AmbiguousLocalTime(ValueError):
    """A Helsinki wall-clock time that does not exist (spring forward) or happens twice (fall back)."""


def locale_of(language: str) -> str:
    """The CLDR locale of a language people read (Finnish for an unknown one)."""
    return LOCALES[_language(language)]


def _language(language: str) -> Language:
    return language if language in LANGUAGES else "fi"


def helsinki(moment: datetime) -> datetime:
    """An aware moment as Helsinki wall-clock time (daylight saving included)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in time; use an aware one")
    return moment.astimezone(HELSINKI)


def format_time(moment: datetime, language: str) -> str:
    """``1.12.2026 klo 9.05`` (fi), ``1.12.2026 kl. 9.05`` (sv), ``1 Dec 2026 09:05`` (en), in Helsinki time."""
    language = _language(language)
    local = helsinki(moment)
    return format_date(local, language) + _AT[language] + format_clock(local, language)


def format_clock(moment: datetime, language: str) -> str:
    """The time of day only: ``9.05`` (fi, sv), ``09:05`` (en), in Helsinki time."""
    language = _language(language)
    return babel_time(helsinki(moment).time(), _TIME_PATTERN[language], locale=locale_of(language))


def format_date(day: date | datetime, language: str) -> str:
    """``1.12.2026`` (fi, sv), ``1 Dec 2026`` (en); an aware datetime is taken in Helsinki time."""
    language = _language(language)
    local = helsinki(day).date() if isinstance(day, datetime) else day
    return babel_date(local, _DATE_STYLE[language], locale=locale_of(language))


def format_number(value: float | int | Decimal, language: str, *, decimals: int | None = None) -> str:
    """``87,5`` and ``48 367`` (fi, sv: a decimal comma, a space between thousands) or ``87.5`` and ``48,367``
    (en); whole numbers without decimals; ``decimals`` rounds (half up) to that many places."""
    if decimals is not None:
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return format_decimal(value, locale=locale_of(language), decimal_quantization=False)


def format_percent(percent: float | int, language: str, *, decimals: int = 1) -> str:
    """A share given in per cent: ``87,5 %`` (fi, sv), ``87.5%`` (en), rounded to ``decimals`` places."""
    rounded = Decimal(str(percent)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return babel_percent(rounded / 100, locale=locale_of(language), decimal_quantization=False)


def format_money(euros: float | Decimal, language: str) -> str:
    """An amount in euros: ``1 234,50 €`` (fi, sv), ``€1,234.50`` (en)."""
    return format_currency(Decimal(str(euros)), "EUR", locale=locale_of(language))


def plural_category(count: float | int, language: str) -> str:
    """The CLDR plural category of ``count`` in ``language`` (``one`` or ``other`` in fi, sv and en)."""
    return Locale.parse(locale_of(language)).plural_form(count)


def plural_categories(language: str) -> frozenset[str]:
    """Every plural category ``language`` has (CLDR), ``other`` included."""
    return frozenset(Locale.parse(locale_of(language)).plural_form.tags) | {"other"}


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
