"""CAP 1.2 warnings (e.g. FMI weather warnings) as observations of the configured indicator.

The file (at most 2 MB) is validated against the OASIS CAP 1.2 schema by libxml2, whose work grows linearly with
the file (xmlschema's grew with its square: 64k empty elements took 25 s). Severity becomes the value
(``cap.severity_values``);
each ``area`` is matched to our municipalities by its ``areaDesc`` or a ``geocode`` value (``cap.area_aliases``;
a region alias matches every municipality). One observation per municipality: the most severe info in force.
A cancelled or expired warning gives the value of "Minor" (no warning).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from pydantic import ValidationError

from alueturva.cap import CAP_NAMESPACE, cap_schema
from alueturva.errors import Invalid
from situation.config import CapImport
from situation.schemas import ObservationIn

NS = {"cap": CAP_NAMESPACE}
MAX_CAP_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class CapObservations:
    identifier: str
    observations: list[ObservationIn]
    matched_areas: list[str]
    unmatched_areas: list[str]


def parse_cap(document: bytes) -> etree._Element:
    """Parse and validate; a file that is not well-formed CAP 1.2 raises ``Invalid`` saying what is wrong."""
    if not document.strip():
        raise Invalid("the CAP file is empty")
    if len(document) > MAX_CAP_BYTES:
        raise Invalid(f"the CAP file is larger than {MAX_CAP_BYTES} bytes")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        raise Invalid(f"the CAP file is not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise Invalid("the CAP file has a DOCTYPE; CAP 1.2 has none, and entities are not expanded")
    schema = cap_schema()
    if not schema.validate(root):  # libxml2: linear in the size of the file, which is capped
        error = schema.error_log.last_error
        raise Invalid(f"the file is not valid CAP 1.2: {error.message[:300]} (line {error.line})")
    return root


def _text(element: Any, path: str) -> str | None:
    found = element.find(path, NS)
    return found.text.strip() if found is not None and found.text else None


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _area_names(area: Any) -> list[str]:
    names = [_text(area, "cap:areaDesc") or ""]
    names.extend((value.text or "").strip() for value in area.findall("cap:geocode/cap:value", NS))
    return [name for name in names if name]


class _Aliases:
    """The configured names, folded once: each area of a file is then matched in time independent of the file."""

    def __init__(self, rules: CapImport) -> None:
        self.region = {alias.casefold() for alias in rules.region_aliases}
        self.every = set(rules.area_aliases)
        self.by_name: dict[str, set[str]] = {}
        for key, aliases in rules.area_aliases.items():
            for alias in aliases:
                self.by_name.setdefault(alias.casefold(), set()).add(key)

    def match(self, names: list[str]) -> set[str]:
        wanted = {name.casefold() for name in names}
        wanted |= {part.strip().casefold() for name in names for part in name.replace(";", ",").split(",")}
        if wanted & self.region:
            return set(self.every)
        return {key for name in wanted for key in self.by_name.get(name, ())}


def cap_observations(document: bytes, *, rules: CapImport, now: datetime) -> CapObservations:
    """The observations a CAP alert gives for our municipalities."""
    root = parse_cap(document)
    identifier = _text(root, "cap:identifier") or ""
    sender = _text(root, "cap:sender") or ""
    status = _text(root, "cap:status")
    if status != "Actual":
        raise Invalid(f"the CAP alert has status '{status}'; only Actual warnings change the situational picture")
    sent = _datetime(_text(root, "cap:sent"))
    assert sent is not None  # required by the schema
    cancelled = _text(root, "cap:msgType") == "Cancel"
    no_warning = rules.severity_values.get("Minor", 0.0)
    values: dict[str, float] = {}
    unmatched: dict[str, None] = {}  # in the file's order, each once (a list's `in` made this quadratic)
    aliases = _Aliases(rules)
    for info in root.findall("cap:info", NS):
        expires = _datetime(_text(info, "cap:expires"))
        severity = _text(info, "cap:severity") or "Unknown"
        in_force = not cancelled and (expires is None or expires > now)
        value = rules.severity_values.get(severity, no_warning) if in_force else no_warning  # type: ignore[call-overload]
        for area in info.findall("cap:area", NS):
            names = _area_names(area)
            municipalities = aliases.match(names)
            if not municipalities and names:
                unmatched.setdefault(names[0])
            for key in municipalities:
                values[key] = max(values.get(key, value), value)
    try:
        observations = [
            ObservationIn(
                indicator=rules.indicator,
                area=key,
                value=value,
                observed_at=sent,
                source=f"cap:{sender}"[:120],
                source_id=f"{identifier}:{key}"[:200],
            )
            for key, value in sorted(values.items())
        ]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise Invalid(f"the CAP alert cannot be stored: {problems}") from exc
    return CapObservations(identifier, observations, sorted(values), list(unmatched))
