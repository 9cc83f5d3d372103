"""Planning a drill: its name and kind, whom it alerts (as on the send page), its alert's text per language and
channels, its objectives, and when it starts (by hand, once at a time in Finnish time, or on a cron schedule).

The form becomes the API's request body (``drills.schemas.DrillCreate``) and is planned by ``drills.plans.plan``, as
``POST /api/v1/drills`` is: the same checks, and nothing is stored when one fails. What is wrong is shown at the field
it concerns, in the page's language: the form's own checks name their text; the schema's refusals are read from the
error's place and type; the plan's from the field its message starts with (``targets: …``, ``schedule.at: …``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from actioncards import service as action_cards
from alerting.config import alerting_config
from alueturva.app.web import alert_form
from alueturva.app.web.drills import sentence
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import OperatorUser
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database
from alueturva.errors import DomainError
from alueturva.i18n import LANGUAGES, format_number
from drills import plans, texts
from drills.models import DrillKind
from drills.schemas import DrillCreate

router = APIRouter(include_in_schema=False)

NEEDS_TEXT = (DrillKind.communication_test, DrillKind.management_group_test)
SIMPLE_FIELDS = ("name", "kind", "description", "contact")
# The drill's own words, written per language like the alert's text (Finnish in the plain field).
OWN_WORDS = ("name", "description", "contact", "manual_objectives")
TRANSLATED = tuple(f"{name}_{language}" for name in OWN_WORDS for language in LANGUAGES[1:])
# The measured objectives the form offers: each kind once, its parameters in fields of their own.
MEASURED = {
    "ack_share_within": {"percent": "ack_percent", "minutes": "ack_minutes"},
    "every_organisation_within": {"minutes": "organisation_minutes"},
    "every_area_within": {"minutes": "area_minutes"},
    "max_unreachable": {"count": "unreachable_count"},
}
DEFAULTS = {
    "ack_percent": "90",
    "ack_minutes": "15",
    "organisation_minutes": "30",
    "area_minutes": "30",
    "unreachable_count": "0",
}
SCHEDULE_FIELDS = {"at": "start_at", "cron": "cron"}
SCHEDULE_MODELS = {"at": "ScheduleAt", "cron": "ScheduleCron"}
# Where the plan's own refusals point (the field its message starts with) and what they say there.
PLAN_FIELDS = {"targets": "targets", "schedule.at": "start_at", "schedule.cron": "cron", "action_cards": "action_cards"}
PLAN_PROBLEMS = {
    "targets": "plan_targets_refused",
    "start_at": "start_at_in_past",
    "cron": "cron_refused",
    "action_cards": "plan_cards_refused",
}
LIMIT_TEXTS = {
    "greater_than": ("must_be_greater", "gt"),
    "greater_than_equal": ("must_be_at_least", "ge"),
    "less_than": ("must_be_less", "lt"),
    "less_than_equal": ("must_be_at_most", "le"),
    "string_too_long": ("too_long", "max_length"),
    "too_long": ("too_long", "max_length"),
}
NUMBER_TYPES = frozenset({"float_parsing", "int_parsing", "int_from_float", "float_type", "int_type"})
EMPTY_TYPES = frozenset({"missing", "string_too_short", "too_short"})
# The label (a text key) of each field a problem can point at; title, message and options also name their language.
FIELD_LABELS = {
    "name": "drill_name",
    "kind": "drill_kind",
    "description": "scenario",
    "contact": "contact_person",
    "targets": "targets",
    "channels": "channels",
    "title": "title_label",
    "message": "message_label",
    "response_options": "response_options",
    "ack_percent": "percent_label",
    "ack_minutes": "ack_minutes_label",
    "organisation_minutes": "organisation_minutes_label",
    "area_minutes": "area_minutes_label",
    "unreachable_count": "unreachable_count_label",
    "manual_objectives": "manual_objectives",
    **{f"{name}_{language}": f"{name}_label_{language}" for name in OWN_WORDS for language in LANGUAGES[1:]},
    "start_at": "start_at_label",
    "cron": "cron_label",
    "action_cards": "drill_action_cards",
}


@dataclass(frozen=True)
class Problem:
    key: str  # a text key of texts.yaml
    values: dict[str, str] = field(default_factory=dict)


Problems = dict[str, Problem]  # form field (or "form") -> the first thing wrong with it


def _values(form: FormData) -> dict[str, Any]:
    values = alert_form.alert_values(form)
    values.update({name: str(form.get(name, "")).strip() for name in SIMPLE_FIELDS})
    values.update({name: str(form.get(name, "")).strip() for name in DEFAULTS})
    values["objectives"] = [str(kind) for kind in form.getlist("objectives") if kind in MEASURED]
    values["manual_objectives"] = str(form.get("manual_objectives", ""))
    values.update({name: str(form.get(name, "")).strip() for name in TRANSLATED})
    values["schedule"] = str(form.get("schedule", "manual"))
    values["start_at"] = str(form.get("start_at", "")).strip()
    values["cron"] = str(form.get("cron", "")).strip()
    values["action_cards"] = [str(key) for key in form.getlist("action_cards")]
    return values


def _blank() -> dict[str, Any]:
    values = alert_form.blank_alert_values(list(alerting_config().default_channels))
    values.update(dict.fromkeys(SIMPLE_FIELDS, ""), kind=DrillKind.communication_test.value, **DEFAULTS)
    values.update(objectives=["ack_share_within"], manual_objectives="", schedule="manual", start_at="", cron="")
    values["action_cards"] = []
    values.update(dict.fromkeys(TRANSLATED, ""))
    return values


def _own_words(values: dict[str, Any], name: str) -> dict[str, str] | None:
    """A drill's own word in each language it was written in (None when the Finnish one is empty)."""
    if not values[name]:
        return None
    return {"fi": values[name]} | {
        language: values[f"{name}_{language}"] for language in LANGUAGES[1:] if values[f"{name}_{language}"]
    }


def _objectives(values: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The objectives chosen, as the API takes them, and for each the form field of each of its parameters."""
    chosen: list[dict[str, Any]] = []
    fields: list[dict[str, str]] = []
    for kind, parameters in MEASURED.items():
        if kind in values["objectives"]:
            chosen.append({"kind": kind} | {p: values[f].replace(",", ".") for p, f in parameters.items()})
            fields.append(parameters)
    versions = {
        language: alert_form.lines(values["manual_objectives" + ("" if language == "fi" else f"_{language}")])
        for language in LANGUAGES
    }
    for position, text in enumerate(versions["fi"]):
        written = {language: lines[position] for language, lines in versions.items() if position < len(lines)}
        chosen.append({"kind": "manual", "text": {**written, "fi": text}})
        fields.append({"text": "manual_objectives"})
    return chosen, fields


def _schedule(values: dict[str, Any]) -> dict[str, str] | None:
    mode = values["schedule"]
    return {mode: values[SCHEDULE_FIELDS[mode]]} if mode in SCHEDULE_FIELDS else None


def _form_problems(values: dict[str, Any]) -> Problems:
    """What the form can say itself, field by field, before the schema and the plan look at it."""
    problems: Problems = {}
    if not values["name"]:
        problems["name"] = Problem("name_required")
    if values["kind"] not in DrillKind.__members__:
        problems["kind"] = Problem("choose_kind")
    if not alert_form.any_target(values):
        problems["targets"] = Problem("choose_target")
    needs_text = values["kind"] in NEEDS_TEXT or values["title_fi"] or values["message_fi"]
    if needs_text and not values["title_fi"]:
        problems["title_fi"] = Problem("title_required")
    if needs_text and not values["message_fi"]:
        problems["message_fi"] = Problem("message_required")
    if len(alert_form.lines(values["response_options_fi"])) == 1:
        problems["response_options_fi"] = Problem("options_two_or_none")
    for language in LANGUAGES[1:]:
        for key in alert_form.version_problems(values, language):
            where = "title" if key.startswith("version_incomplete") else "response_options"
            problems.setdefault(f"{where}_{language}", Problem(key))
        written = alert_form.lines(values[f"manual_objectives_{language}"])
        if written and len(written) != len(alert_form.lines(values["manual_objectives"])):
            problems[f"manual_objectives_{language}"] = Problem(f"manual_mismatch_{language}")
    return problems


def _loc_field(loc: tuple[Any, ...], objective_fields: list[dict[str, str]], mode: str) -> str:
    """The form field a schema error's place (``('objectives', 0, 'ack_share_within', 'percent')``) points at."""
    head = loc[0] if loc else ""
    if head in SIMPLE_FIELDS or head in ("targets", "channels"):
        language = loc[1] if len(loc) > 1 and loc[1] in LANGUAGES[1:] else None
        return f"{head}_{language}" if language else str(head)
    if head in ("title", "message"):
        language = loc[1] if len(loc) > 1 and loc[1] in LANGUAGES else "fi"
        return f"{head}_{language}"
    if head == "response_options":
        language = loc[2] if len(loc) > 2 and loc[2] in LANGUAGES else "fi"
        return f"response_options_{language}"
    if head == "objectives" and len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(objective_fields):
        parameters = objective_fields[loc[1]]
        return parameters.get(str(loc[-1]), next(iter(parameters.values())))
    if head == "schedule":
        return SCHEDULE_FIELDS.get(mode, "form")
    if head == "action_cards":
        return "action_cards"
    return "form"


def _schema_problem(error: Any, where: str, language: str) -> Problem:
    """A schema error in words: by its type, with its limit written as the page's language writes numbers."""
    kind, context = error["type"], error.get("ctx") or {}
    if where == "cron":
        return Problem("cron_refused")
    if where == "start_at":
        return Problem("start_at_nonexistent" if kind == "value_error" else "datetime_required")
    if where == "response_options_fi" and kind == "value_error":
        return Problem("options_two_or_none")
    if kind in EMPTY_TYPES:
        return Problem("field_required")
    if kind in NUMBER_TYPES:
        return Problem("number_required")
    if kind in LIMIT_TEXTS:
        key, limit = LIMIT_TEXTS[kind]
        return Problem(key, {"limit": format_number(float(context[limit]), language)})
    return Problem("field_invalid")


def _schema_problems(
    exc: ValidationError, objective_fields: list[dict[str, str]], mode: str, language: str
) -> Problems:
    problems: Problems = {}
    for error in exc.errors():
        loc = tuple(error["loc"])
        if loc[:1] == ("schedule",) and len(loc) > 1 and loc[1] != SCHEDULE_MODELS.get(mode):
            continue  # the other kind of schedule's complaints: the form chose this one
        where = _loc_field(loc, objective_fields, mode)
        problems.setdefault(where, _schema_problem(error, where, language))
    return problems


def _plan_problems(exc: DomainError) -> Problems:
    """The plan's refusal, at the field its message names."""
    detail = str(exc.detail)
    prefix = detail.split(":", 1)[0] if ":" in detail else ""
    where = PLAN_FIELDS.get(prefix, "form")
    return {where: Problem(PLAN_PROBLEMS.get(where, "plan_refused"))}


def drill_request(values: dict[str, Any], language: str) -> DrillCreate | Problems:
    """The API's request body made from the form, or what is wrong with it, field by field."""
    problems = _form_problems(values)
    objectives, objective_fields = _objectives(values)
    try:
        request = DrillCreate.model_validate(
            {
                "name": _own_words(values, "name") or "",
                "kind": values["kind"],
                "description": _own_words(values, "description"),
                "contact": _own_words(values, "contact"),
                "targets": alert_form.targets(values),
                "channels": values["channels"] or None,
                "title": alert_form.localized(values, "title") or None,
                "message": alert_form.localized(values, "message") or None,
                "response_options": alert_form.options(values) or None,
                "objectives": objectives,
                "schedule": _schedule(values),
                "action_cards": values["action_cards"] or None,
            }
        )
    except ValidationError as exc:
        return _schema_problems(exc, objective_fields, values["schedule"], language) | problems
    return problems or request


def _form_page(
    request: Request, user: SignedIn, values: dict[str, Any], problems: Problems, status_code: int = 200
) -> HTMLResponse:
    language = page_language(request)
    kinds = [(kind.value, sentence(texts.kind_name(kind.value, language))) for kind in DrillKind]
    return render(
        request,
        "drill_plan.html.j2",
        user=user,
        status_code=status_code,
        choices=alert_form.target_choices(language),
        values=values,
        errors=problems,
        kinds=kinds,
        cards=_cards_in_use(language),
        field_labels=FIELD_LABELS,
    )


def _cards_in_use(language: str) -> list[tuple[str, str]]:
    """(key, title in the page's language) of each action card a drill can name."""
    with get_database().session() as session:
        return [
            (card.key, card.title.get(language) or card.title["fi"])
            for card in action_cards.list_cards(session, active=True)
        ]


@router.get("/drills/new", response_class=HTMLResponse)
def plan_form(request: Request, user: OperatorUser) -> HTMLResponse:
    return _form_page(request, user, _blank(), {})


@router.post("/drills/new")
async def plan(request: Request, user: OperatorUser) -> Response:
    values = _values(await request.form())
    body = drill_request(values, page_language(request))
    if not isinstance(body, DrillCreate):
        return _form_page(request, user, values, body, status_code=422)
    try:
        drill_id = plans.plan(request=body, actor=user.principal.actor).id
    except DomainError as exc:
        return _form_page(request, user, values, _plan_problems(exc), status_code=exc.status_code)
    return RedirectResponse(f"/drills/{drill_id}", status_code=303)
