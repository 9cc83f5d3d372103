"""How to read an exercise log: which column is which, and which values mean what.

Logs differ by source (an SMS gateway, the emergency centre's group messages, a sheet of phone calls), so a small
YAML file says how to read one. Two are built in (``config/log_mappings/``): the plain log of DESIGN.md §5 and
Alueturva's own event log; one of them is used when no mapping is given and the file's header is theirs.

A mapping file::

    name: tekstiviestipalvelu            # how the report names the source's mapping
    sheet: Loki                          # a workbook's sheet (default: the first)
    columns:                             # our field: the file's column header
      time: Aika
      number: Puhelinnumero
      name: Vastaanottaja
      organisation: Organisaatio
      event: Tila
      phase: Vaihe
    fixed:                               # a field the file has no column for, the same on every row
      channel: sms
    values:                              # the file's words for channels and events (case does not matter)
      event: {Lähetetty: sent, Toimitettu: delivered, Epäonnistui: failed, Kuitattu: acknowledged}
    time_formats: ["%d.%m.%Y %H:%M:%S"]  # tried after the built-in ones; a time without an offset is Finnish time
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from alueturva.config import ConfigError, ConfigModel, config_path, load_yaml, parse_yaml
from alueturva.errors import Invalid

CHANNELS = ("sms", "email", "phone", "erica", "virve")
EVENTS = ("sent", "delivered", "failed", "acknowledged", "answered", "called")
LogField = Literal["time", "name", "number", "email", "organisation", "channel", "event", "answer", "phase", "error"]
Translated = Literal["channel", "event"]
BUILT_IN = ("alueturva", "plain")  # tried in this order: the more specific header first


class LogMapping(ConfigModel):
    name: str = Field(min_length=1, max_length=100)
    sheet: str | None = Field(None, max_length=100)
    columns: dict[LogField, str] = Field(description="Our field: the file's column header")
    fixed: dict[LogField, str] = Field({}, description="A field without a column: its value on every row")
    values: dict[Translated, dict[str, str]] = Field({}, description="The file's words for channels and events")
    time_formats: list[str] = Field([], max_length=10)
    required: list[LogField] = Field([], description="Columns a file must have for this mapping to be chosen")

    @model_validator(mode="after")
    def _complete(self) -> LogMapping:
        for field in ("time", "channel", "event"):
            if field not in self.columns and field not in self.fixed:
                raise ValueError(f"say which column holds '{field}' (columns) or give its value (fixed)")
        if not {"name", "number", "email"} & (set(self.columns) | set(self.fixed)):
            raise ValueError("say which column names the recipient: name, number or email (or several)")
        allowed: dict[str, tuple[str, ...]] = {"channel": CHANNELS, "event": EVENTS}
        for field, words in self.values.items():
            for word, meaning in words.items():
                if meaning not in allowed[field]:
                    raise ValueError(f"values.{field}: '{word}' means '{meaning}'; known: {', '.join(allowed[field])}")
        for field in ("channel", "event"):
            if field in self.fixed and self.fixed[field] not in allowed[field]:
                raise ValueError(f"fixed.{field}: '{self.fixed[field]}'; known: {', '.join(allowed[field])}")
        return self

    def column_of(self, field: LogField) -> str | None:
        return self.columns.get(field)

    def meaning(self, field: Translated, word: str) -> str | None:
        """Our value for the file's ``word`` (its own words first, then ours), or None."""
        own = {key.strip().casefold(): value for key, value in self.values.get(field, {}).items()}
        cleaned = word.strip().casefold()
        known = CHANNELS if field == "channel" else EVENTS
        return own.get(cleaned) or (cleaned if cleaned in known else None)


@lru_cache(maxsize=len(BUILT_IN))
def built_in(name: str) -> LogMapping:
    return load_yaml(config_path(f"log_mappings/{name}.yaml"), LogMapping)


def read_mapping(text: str, source: str) -> LogMapping:
    """A mapping file's text; a mistake is a 4xx naming the line and key."""
    try:
        return parse_yaml(text, LogMapping, source)
    except ConfigError as exc:
        raise Invalid(f"the mapping {exc}") from exc


def mapping_from_file(path: Path) -> LogMapping:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"{path}: cannot read the mapping: {exc}") from exc
    return read_mapping(text, str(path))


def choose(header: list[str], given: LogMapping | None) -> LogMapping:
    """The mapping to read a file with this header: the one given, or the built-in one whose columns it has."""
    if given is not None:
        return given
    present = {column.strip().casefold() for column in header}
    for name in BUILT_IN:
        mapping = built_in(name)
        if all(mapping.columns[field].casefold() in present for field in mapping.required):
            return mapping
    plain = built_in("plain")
    expected = ", ".join(plain.columns[field] for field in plain.required)
    raise Invalid(
        f"the file's columns ({', '.join(header) or 'none'}) are not a known log: give a mapping (--mapping FILE), "
        f"or name the columns as the plain log does: {expected}"
    )
