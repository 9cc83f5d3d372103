"""Types shared by the routers: database ids stay within a 32-bit integer, or the request is refused with a 422;
times people type are read as Finnish time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

from alueturva.i18n import from_helsinki

MAX_ID = 2**31 - 1

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]

_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def refuse_control_characters(value: str) -> str:
    """NUL and other control characters cannot be stored in PostgreSQL text and never belong in a roster."""
    bad = sorted({f"U+{ord(c):04X}" for c in value if (ord(c) < 32 and c not in _ALLOWED_CONTROLS) or ord(c) == 127})
    if bad:
        raise ValueError(f"control characters are not allowed ({', '.join(bad)})")
    return value


NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"


def _document_text_pattern(schema: dict[str, Any]) -> None:
    """Say in the OpenAPI document what the validator enforces, so clients (and schemathesis) know it."""
    for prop in schema.get("properties", {}).values():
        for variant in [prop, *prop.get("anyOf", [])]:
            if variant.get("type") == "string" and "pattern" not in variant and "format" not in variant:
                variant["pattern"] = NO_CONTROL_CHARACTERS


class ApiInput(BaseModel):
    """Base of every request body: unknown fields are refused, strings are free of control characters."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_text_pattern)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        if isinstance(value, str):
            return refuse_control_characters(value)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    refuse_control_characters(item)
        return value


SafeQueryText = Annotated[str, AfterValidator(refuse_control_characters)]


def read_typed_time(value: object, *, end_of_day: bool = False) -> datetime:
    """A time as a person types it into a query: ISO 8601 with an offset is taken as it is; without one it is Finnish
    time (``2025-11-01T08:00``); a bare date (``2025-11-01``) is the start of that day in Finland, or with
    ``end_of_day`` its end (the next midnight), so that ``from=2025-11-01&to=2025-11-30`` is the whole of November.
    Returns aware UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time())
            else:
                moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(
                f"'{text}' is not a date or time: write 2025-11-01, 2025-11-01T08:00 (Finnish time) "
                "or 2025-11-01T08:00+02:00"
            ) from exc
    else:
        raise ValueError("give a date or time as text, e.g. 2025-11-01")
    try:
        return from_helsinki(moment)
    except OverflowError as exc:
        raise ValueError("the time is out of range") from exc


_TYPED_TIME_SCHEMA = {
    "type": "string",
    "description": "ISO 8601; without an offset Finnish time (Europe/Helsinki); a date alone is that day",
    "examples": ["2025-11-01", "2025-11-01T08:00", "2025-11-01T06:00:00Z"],
}
PeriodStart = Annotated[datetime, BeforeValidator(read_typed_time), WithJsonSchema(_TYPED_TIME_SCHEMA)]
PeriodEnd = Annotated[
    datetime,
    BeforeValidator(lambda value: read_typed_time(value, end_of_day=True)),
    WithJsonSchema({**_TYPED_TIME_SCHEMA, "description": _TYPED_TIME_SCHEMA["description"] + " (to its end)"}),
]
