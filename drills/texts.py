"""The drills domain's words in Finnish, Swedish and English (``texts.yaml``, checked whole when loaded), and a
drill's own words (its name, scenario and contact) in a reader's language."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from alueturva.i18n import LANGUAGES, format_percent, format_time
from alueturva.texts import load_texts
from drills.models import Drill

DEFAULT_EXTERNAL_SYSTEM = "Erica"
DRILL_TEXT_FIELDS = ("name", "description", "contact")


def text(key: str, language: str, /, **values: Any) -> str:
    return load_texts(Path(__file__).with_name("texts.yaml")).text(key, language, **values)


def _versions(key: str, **values: Any) -> dict[str, str]:
    return {language: text(key, language, **values) for language in LANGUAGES}


def coming_options() -> list[dict[str, str]]:
    """A management group alerting exercise's default poll: coming, or not."""
    return [_versions("coming_yes"), _versions("coming_no")]


def received_options() -> list[dict[str, str]]:
    """An external-system test's default poll: got the other system's message, or not."""
    return [_versions("received_yes"), _versions("received_no")]


def reach_question(drill: Drill, sent_at: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """The question an external-system test sends the same people, so that the other system's reach is measured:
    the drill's own title and message when it has them, the standard question otherwise."""
    system = drill.external_system or DEFAULT_EXTERNAL_SYSTEM
    title = drill.title or _versions("reach_title", system=system)
    message = drill.message or {
        language: text("reach_message", language, system=system, time=format_time(sent_at, language))
        for language in LANGUAGES
    }
    return title, message


def drill_text(drill: Drill, field: str, language: str) -> str:
    """A drill's own word (``name``, ``description`` (its scenario) or ``contact``) in ``language``: its version in
    that language when written, otherwise the Finnish one (as an alert's text)."""
    versions = (drill.translations or {}).get(field) or {}
    return versions.get(language) or getattr(drill, field) or ""


def drill_texts(drill: Drill) -> dict[str, dict[str, str]]:
    """Every version of a drill's own words, by field and language (the Finnish one always, when it has one)."""
    shown: dict[str, dict[str, str]] = {}
    for field in DRILL_TEXT_FIELDS:
        finnish = getattr(drill, field)
        if finnish:
            shown[field] = {"fi": finnish, **((drill.translations or {}).get(field) or {})}
    return shown


def kind_name(kind: str, language: str) -> str:
    return text(f"kind_{kind}", language)


def state_name(state: str, language: str) -> str:
    return text(f"state_{state}", language)


def met_word(met: bool | None, final: bool, language: str) -> str:
    """Met, not met; an open objective is "kesken" while it can still be met, "arvioimatta" once it cannot (the
    drill has ended and nobody rated it, or nothing measured it)."""
    if met is None:
        return text("not_rated" if final else "open", language)
    return text("met" if met else "not_met", language)


def rating_name(letter: str, language: str) -> str:
    return text(f"rating_{letter}", language)


def objective_description(kind: str, params: dict[str, Any], language: str) -> str:
    """A measured objective in words: "Vähintään 80 % hälytetyistä kuittaa 15 minuutin kuluessa"."""
    if kind == "max_unreachable":
        count = int(params["count"])
        return (
            text("objective_all_reached", language) if count == 0 else text(f"objective_{kind}", language, count=count)
        )
    values = {"count": params["minutes"]}
    if "percent" in params:
        values["percent"] = format_percent(params["percent"], language)
    return text(f"objective_{kind}", language, **values)


def objective_value(kind: str, value: Any, language: str) -> str:
    """The figure behind an objective in words (empty before there is one)."""
    if value is None:
        return ""
    if kind == "manual":
        return rating_name(str(value), language)
    if kind == "ack_share_within":
        percent = format_percent(value["percent"], language)
        return text(
            "value_share",
            language,
            acknowledged=value["acknowledged_within"],
            targeted=value["targeted"],
            percent=percent,
        )
    if kind == "max_unreachable":
        return text("value_unreachable", language, count=value["unreachable"])
    if kind == "tasks_done_within":
        percent = format_percent(value["percent"], language)
        return text("value_tasks", language, done=value["done_within"], tasks=value["tasks"], percent=percent)
    shown = text("value_in_time", language, acknowledged=value["reached"], targeted=value["targeted"])
    missing = (value.get("missing_names") or {}).get(language) or value["missing"]
    return shown + (text("value_missing", language, names=", ".join(missing)) if missing else "")


def label(key: str, language: str) -> str:
    """A word of the drill commands' output."""
    return text(f"label_{key}", language)
