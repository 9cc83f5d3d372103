"""Finnish time for people: formatting in three languages, and times typed without a zone, across clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from alueturva.i18n import AmbiguousLocalTime, format_date, format_number, format_time, from_helsinki, helsinki


def test_times_are_shown_in_helsinki_time_in_each_language() -> None:
    winter = datetime(2026, 12, 1, 12, 5, tzinfo=UTC)  # UTC+2
    assert format_time(winter, "fi") == "1.12.2026 klo 14.05"
    assert format_time(winter, "sv") == "1.12.2026 kl. 14.05"
    assert format_time(winter, "en") == "1 Dec 2026 14:05"
    summer = datetime(2026, 6, 30, 21, 30, tzinfo=UTC)  # UTC+3: already the next day in Finland
    assert format_time(summer, "fi") == "1.7.2026 klo 0.30"
    morning = datetime(2026, 12, 1, 7, 5, tzinfo=UTC)
    assert (format_time(morning, "fi"), format_time(morning, "en")) == ("1.12.2026 klo 9.05", "1 Dec 2026 09:05")
    assert format_date(summer, "fi") == "1.7.2026" and format_date(date(2026, 7, 1), "en") == "1 Jul 2026"


def test_the_same_moment_reads_the_same_from_any_offset() -> None:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert format_time(moment, "fi") == "1.3.2026 klo 16.00"
    assert helsinki(moment).utcoffset() == timedelta(hours=2)


def test_a_typed_time_is_helsinki_time() -> None:
    assert from_helsinki(datetime(2026, 1, 15, 9, 0)) == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)
    assert from_helsinki(datetime(2026, 7, 15, 9, 0)) == datetime(2026, 7, 15, 6, 0, tzinfo=UTC)
    aware = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)
    assert from_helsinki(aware) == aware


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        (datetime(2026, 3, 29, 3, 30), "does not exist"),  # 03:00 -> 04:00 on the last Sunday of March
        (datetime(2026, 10, 25, 3, 30), "happens twice"),  # 04:00 -> 03:00 on the last Sunday of October
    ],
)
def test_times_at_the_clock_change_are_reported_not_guessed(typed: datetime, problem: str) -> None:
    with pytest.raises(AmbiguousLocalTime, match=problem):
        from_helsinki(typed)


def test_a_naive_moment_cannot_be_shown() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 1, 1, 12, 0), "fi")


def test_numbers_have_a_decimal_comma_in_finnish_and_swedish() -> None:
    assert [format_number(87.5, language) for language in ("fi", "sv", "en")] == ["87,5", "87,5", "87.5"]
    assert format_number(80.0, "fi") == "80"
