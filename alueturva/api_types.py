"""Types shared by the routers: database ids stay within a 32-bit integer, or the request is refused with a 422."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

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
