"""The parts of a form that make an alert, shared by the send page and the drill plan: whom it goes to (groups,
roles, organisations, areas, people), its text in Finnish with whole Swedish and English versions, and its channels.
The templates' side of it is ``alert_form.html.j2``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from starlette.datastructures import FormData

from alerting.targets import Targeted
from alueturva.db import get_database
from alueturva.digits import ascii_int
from alueturva.i18n import LANGUAGES
from contacts import catalogue, service
from contacts.areas import AREAS

TARGET_KINDS = ("groups", "roles", "organisations", "areas", "people")
TEXT_FIELDS = tuple(f"{part}_{language}" for language in LANGUAGES for part in ("title", "message", "response_options"))
CHANNELS = ("sms", "email", "voice")
MAX_PEOPLE_LISTED = 3000


def alert_values(form: FormData) -> dict[str, Any]:
    """The targets, texts and channels as the form posts them."""
    values: dict[str, Any] = {kind: [str(v) for v in form.getlist(kind)] for kind in TARGET_KINDS}
    values.update({field: str(form.get(field, "")).strip() for field in TEXT_FIELDS})
    values["channels"] = [str(v) for v in form.getlist("channels")]
    return values


def blank_alert_values(channels: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {kind: [] for kind in TARGET_KINDS}
    values.update(dict.fromkeys(TEXT_FIELDS, ""))
    values["channels"] = channels
    return values


def _ids(items: list[str]) -> list[int]:
    return [number for item in items if (number := ascii_int(item)) is not None]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def targets(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The alert target shape (docs/architecture.md §5) of what was chosen."""
    return {
        "groups": _ids(values["groups"]),
        "roles": values["roles"],
        "organisations": _ids(values["organisations"]),
        "areas": values["areas"],
        "people": _ids(values["people"]),
    }


def any_target(values: dict[str, Any]) -> bool:
    return any(values[kind] for kind in TARGET_KINDS)


def version_problems(values: dict[str, Any], language: str) -> list[str]:
    """A Swedish or English version is a whole one: its title, its message and as many response options as the
    Finnish text (so that no reader gets a mix of languages). Text keys of what is wrong."""
    title, message = values[f"title_{language}"], values[f"message_{language}"]
    options = lines(values[f"response_options_{language}"])
    if not (title or message or options):
        return []
    problems = [] if title and message else [f"version_incomplete_{language}"]
    if len(options) != len(lines(values["response_options_fi"])):
        problems.append(f"options_mismatch_{language}")
    return problems


def localized(values: dict[str, Any], part: str) -> dict[str, str]:
    return {language: values[f"{part}_{language}"] for language in LANGUAGES if values[f"{part}_{language}"]}


def options(values: dict[str, Any]) -> list[dict[str, str]]:
    """Each response option in every language the alert is written in (the lines pair up by position)."""
    languages = [language for language in LANGUAGES if values[f"title_{language}"]]
    columns = {language: lines(values[f"response_options_{language}"]) for language in languages}
    return [
        {language: columns[language][index] for language in languages} for index in range(len(columns.get("fi", [])))
    ]


def target_choices(language: str) -> dict[str, Any]:
    """Everything that can be targeted, with names in the page's language, and the channels."""
    suffix = "" if language == "fi" else f"_{language}"
    with get_database().session() as session:
        groups = [(g.id, getattr(g, f"name{suffix}", None) or g.name, n) for g, n in service.list_groups(session)]
        organisations = [(o.id, o.short_name) for o in service.list_organisations(session)]
        people, _ = service.list_people(session, active=True, limit=MAX_PEOPLE_LISTED)
        names = {o.id: o.short_name for o in service.list_organisations(session)}
        by_organisation: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        for person in people:
            by_organisation[names[person.organisation_id]].append((person.id, person.name, person.title or ""))
    area_names = catalogue.area_names()
    return {
        "groups": groups,
        "roles": [(r.key, getattr(r.names, language)) for r in catalogue.catalogue().roles],
        "organisations": organisations,
        "areas": [(key, area_names[key][language]) for key in AREAS],
        "people": sorted(by_organisation.items()),
        "channels": CHANNELS,
    }


def per_organisation(people: list[Targeted]) -> list[dict[str, Any]]:
    """How many of the people each organisation has, and how many of them have no mobile or no email."""
    rows: dict[str, dict[str, Any]] = {}
    for person in people:
        row = rows.setdefault(
            person.organisation, {"name": person.organisation, "count": 0, "no_mobile": 0, "no_email": 0}
        )
        row["count"] += 1
        row["no_mobile"] += not person.has_mobile
        row["no_email"] += not person.has_email
    return list(rows.values())
