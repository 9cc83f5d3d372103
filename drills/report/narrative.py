"""The report's words: the narrative sections people write per language, the course of events made from what the
system knows (until someone edits it), the approval state, and the redaction of free text for the councils'
version (no name, number or email in anything people wrote)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import FromClause

from actioncards.measures import card_uses
from alueturva.i18n import LANGUAGES
from contacts.catalogue import place_names
from contacts.models import Person
from contacts.service import organisation_names
from drills import texts
from drills.models import Drill, DrillObservation, ReportDraft, ReportVersion
from drills.report import figures
from drills.report.schemas import Approval, CourseEvent, Sections
from drills.report.texts import text, words
from drills.schemas import NARRATIVE_SECTIONS, DrillRead
from situation.config import readiness_config

COURSE_ORDER = ("start", "phase", "alert", "decision", "card", "observation", "acknowledged", "note", "end")


def _versions(key: str, /, **values: Any) -> dict[str, str]:
    return {language: text("course", key, language, **values) for language in LANGUAGES}


def marking_text(marking: str | None, language: str) -> str | None:
    """A publicity marking's words in ``language`` (None: not chosen)."""
    return None if marking is None else words("marking", language)[marking]


def draft_of(session: Session, *, drill_id: int) -> ReportDraft | None:
    return session.get(ReportDraft, drill_id)


def latest_version(session: Session, *, drill_id: int) -> ReportVersion | None:
    return session.scalar(
        select(ReportVersion).where(ReportVersion.drill_id == drill_id).order_by(ReportVersion.version.desc()).limit(1)
    )


def get_version(session: Session, *, drill_id: int, version: int) -> ReportVersion | None:
    return session.scalar(
        select(ReportVersion).where(ReportVersion.drill_id == drill_id, ReportVersion.version == version)
    )


def course_of_events(session: Session, drill: Drill, recipients: FromClause, shown: DrillRead) -> list[CourseEvent]:
    """The course of events from what the system knows: start, phases, each alert and how many it reached, the
    exercise's readiness decisions, the action cards activated in it (their tasks done), the evaluators'
    observations, each organisation's first acknowledgement (no names), the end."""
    events: list[CourseEvent] = []
    if drill.started_at is not None:
        events.append(CourseEvent(at=drill.started_at, kind="start", text=_versions("start")))
    for phase in shown.phases:
        if phase.started_at is not None:
            events.append(
                CourseEvent(
                    at=phase.started_at, kind="phase", text=_versions("phase", number=phase.number, name=phase.name)
                )
            )
    measured = figures.measured_alerts(recipients)
    alerts: Sequence[Any] = session.execute(
        select(measured.c.alert_at, func.count(func.distinct(measured.c.person_key)))
        .group_by(measured.c.alert_at)
        .order_by(measured.c.alert_at)
    ).all()
    for alert_at, count in alerts:
        if alert_at is not None:
            events.append(CourseEvent(at=alert_at, kind="alert", text=_versions("alert", count=int(count))))
    levels, places = readiness_config().level_names(), place_names()
    for decision in shown.exercise_levels:
        events.append(
            CourseEvent(
                at=decision.decided_at,
                kind="decision",
                text={
                    language: text(
                        "course",
                        "decision",
                        language,
                        area=_place(places, decision.area, language),
                        previous=getattr(levels[decision.previous_level], language),
                        level=getattr(levels[decision.level], language),
                        reason=decision.reason,
                    )
                    for language in LANGUAGES
                },
            )
        )
    events += _cards_used(session, drill.id, places)
    for observation in shown.observations:
        events.append(
            CourseEvent(at=observation.at, kind="observation", text=_versions("observation", text=observation.text))
        )
    events += _first_acknowledgements(session, recipients)
    if drill.ended_at is not None:
        events.append(CourseEvent(at=drill.ended_at, kind="end", text=_versions("end")))
    return sorted(events, key=lambda event: (event.at, COURSE_ORDER.index(event.kind)))


def _place(places: dict[str, dict[str, str]], area: str, language: str) -> str:
    """An area's name in ``language`` (Swedish pages use Swedish place names); its key when it has no name."""
    return places.get(area, {}).get(language, area)


def _cards_used(session: Session, drill_id: int, places: dict[str, dict[str, str]]) -> list[CourseEvent]:
    """Each action card activated in the drill, with how many of its tasks were done."""
    return [
        CourseEvent(
            at=use.activated_at,
            kind="card",
            text={
                language: text(
                    "course",
                    "card",
                    language,
                    area=_place(places, use.area, language),
                    card=use.title.get(language) or use.title["fi"],
                    done=use.done,
                    tasks=use.tasks,
                )
                for language in LANGUAGES
            },
        )
        for use in card_uses(session, drill_id=drill_id)
    ]


def _first_acknowledgements(session: Session, recipients: FromClause) -> list[CourseEvent]:
    rows = figures.measured_only(recipients)
    names = {names["fi"]: names for names in organisation_names(session).values()}
    result = []
    firsts: Sequence[Any] = session.execute(
        select(
            rows.c.organisation, func.min(rows.c.acknowledged_at), func.count(), func.count(rows.c.acknowledged_at)
        ).group_by(rows.c.organisation)
    ).all()
    for organisation, first, targeted, acknowledged in firsts:
        if first is None:
            continue
        result.append(
            CourseEvent(
                at=first,
                kind="acknowledged",
                text={
                    language: text(
                        "course",
                        "acknowledged",
                        language,
                        organisation=names.get(organisation, {}).get(language) or organisation,
                        acknowledged=acknowledged,
                        targeted=targeted,
                    )
                    for language in LANGUAGES
                },
            )
        )
    return result


def sections(
    session: Session, drill: Drill, recipients: FromClause, shown: DrillRead, draft: ReportDraft | None
) -> Sections:
    """The narrative sections as written (the scenario, until written, is the drill's own), and the course of
    events: edited, or made from what the system knows."""
    written = draft.sections if draft else {}
    scenario = written.get("scenario") or {
        language: version for language, version in texts.drill_texts(drill).get("description", {}).items() if version
    }
    edited = draft is not None and draft.course_of_events is not None
    course = (
        [CourseEvent.model_validate(event) for event in draft.course_of_events or []]
        if edited and draft is not None
        else course_of_events(session, drill, recipients, shown)
    )
    return Sections(
        summary=written.get("summary", {}),
        purpose=written.get("purpose", {}),
        scenario=scenario,
        course_of_events=course,
        course_edited=edited,
        conclusions=written.get("conclusions", {}),
        recommendations=written.get("recommendations", {}),
    )


def draft_approval(session: Session, *, drill_id: int, draft: ReportDraft | None, language: str) -> Approval:
    """A report not (or no longer) as approved: the draft of the next version."""
    latest = latest_version(session, drill_id=drill_id)
    marking = draft.marking if draft else None
    return Approval(
        state="draft",
        version=(latest.version if latest else 0) + 1,
        approved_by=None,
        approved_at=None,
        marking=marking,
        marking_text=marking_text(marking, language),
        distribution=list(draft.distribution) if draft else [],
    )


def changed_since_approval(draft: ReportDraft | None, latest: ReportVersion | None) -> bool:
    """Whether the draft holds a change made after the latest approved version (then the report is a draft)."""
    return latest is None or (draft is not None and draft.updated_at > latest.approved_at)


def merge_sections(current: dict[str, dict[str, str]], changes: dict[str, dict[str, str | None]]) -> dict[str, Any]:
    """Each section's languages given are set, an empty one is cleared, the others are kept."""
    merged = {key: dict(versions) for key, versions in current.items()}
    for key in NARRATIVE_SECTIONS:
        for language, version in (changes.get(key) or {}).items():
            if version is None:
                continue
            if version:
                merged.setdefault(key, {})[language] = version
            else:
                merged.get(key, {}).pop(language, None)
    return merged


# Redaction ---------------------------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NUMBER = re.compile(r"(?<![\w])\+?\d[\d \-()]{5,}\d(?![\w])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WORD = re.compile(r"[^\W\d_][\w'’-]*")
MAX_ENDING = 5  # a Finnish or Swedish case ending on a name: Bertilin, Aaltoselle, Backmans


class Redactor:
    """Takes names, phone numbers and email addresses out of free text: any word that is (or, with a case ending,
    begins with) a part of a known person's name, any run of seven or more digits, any email address."""

    def __init__(self, names: Iterable[str], *, keep: Iterable[str], removed: str) -> None:
        kept = set(keep)
        self.parts = {part for name in names for part in WORD.findall(name) if len(part) > 1 and part not in kept}
        # A Finnish -nen name inflects on another stem: Aaltonen, Aaltosen, Aaltoselle.
        self.parts |= {part[:-3] + "s" for part in self.parts if part.endswith("nen") and len(part) > 5}
        self.removed = removed

    def _is_name(self, word: str) -> bool:
        if word in self.parts:
            return True
        return any(
            word[:-cut] in self.parts and word[-cut:].islower() for cut in range(1, min(MAX_ENDING, len(word) - 2) + 1)
        )

    def _number(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if ISO_DATE.fullmatch(found) or sum(c.isdigit() for c in found) < 7:
            return found
        return self.removed

    def __call__(self, value: str) -> str:
        value = EMAIL.sub(self.removed, value)
        value = NUMBER.sub(self._number, value)
        return WORD.sub(lambda match: self.removed if self._is_name(match.group(0)) else match.group(0), value)

    def walk(self, value: Any) -> Any:
        """Every string inside ``value`` (dictionaries, lists), redacted."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {key: self.walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.walk(item) for item in value]
        return value


def redactor(session: Session, *, drill_id: int, language: str, extra: Iterable[str] = ()) -> Redactor:
    """A redactor for a drill's report: the names of everyone on the roster, the drill's evaluators and the
    approvers; organisation and place names are kept."""
    names = list(session.scalars(select(Person.name)))
    names += session.scalars(select(DrillObservation.author).where(DrillObservation.drill_id == drill_id))
    names += session.scalars(select(ReportVersion.approved_by).where(ReportVersion.drill_id == drill_id))
    names += list(extra)
    keep = [name for names_ in organisation_names(session).values() for name in names_.values()]
    keep += [name for names_ in place_names().values() for name in names_.values()]
    keep_words = {word for name in keep for word in WORD.findall(name)}
    return Redactor(names, keep=keep_words, removed=words("narrative", language)["removed"])
