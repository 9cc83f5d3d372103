"""Writing and approving an after-action report (use cases, each owning its transaction), and reading the report a
reader asks for: an approved version, frozen in every language and variant, or the draft of the next one.

An approved version is the report's JSON as it was at approval (figures and words), for each language and each
variant (``full`` with contact details, ``names`` without them, ``redacted`` for the councils); every format is made
from it again by ``drills.report.render.export``. A change after approval makes the report a draft of the next
version; older versions stay readable (``version=N``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid, NotFound
from alueturva.i18n import LANGUAGES
from drills import service
from drills.models import ReportDraft, ReportVersion
from drills.report import narrative
from drills.report.assemble import build_report
from drills.report.render import as_json
from drills.report.schemas import Approval, NamedPerson, Report, ReportPerson
from drills.schemas import ReportApprove, ReportUpdate

Variant = Literal["full", "names", "redacted"]
VARIANTS: dict[Variant, dict[str, bool]] = {
    "full": {"redact": False, "contact_details": True},
    "names": {"redact": False, "contact_details": False},
    "redacted": {"redact": True, "contact_details": False},
}
_NAMED_PEOPLE = TypeAdapter(list[NamedPerson])
_PEOPLE = TypeAdapter(list[ReportPerson])


def variant_of(*, redact: bool, contact_details: bool) -> Variant:
    if redact:
        return "redacted"
    return "full" if contact_details else "names"


def _draft_to_write(session: Session, *, drill_id: int, actor: str) -> ReportDraft:
    """The drill's report draft, made empty (in the session) if it has none yet."""
    draft = narrative.draft_of(session, drill_id=drill_id) or ReportDraft(
        drill_id=drill_id, sections={}, distribution=[], updated_by=actor
    )
    session.add(draft)
    return draft


def update_report(*, drill_id: int, payload: ReportUpdate, actor: str) -> None:
    """Write into a drill's report: sections per language, the course of events, marking, distribution. After an
    approval this begins the next version."""
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid("nothing to change: give a section, course_of_events, marking or distribution")
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if drill.started_at is None:
            raise Conflict(f"drill {drill_id} is {drill.state.value}; a report is written once it has been held")
        draft = _draft_to_write(session, drill_id=drill_id, actor=actor)
        draft.sections = narrative.merge_sections(draft.sections or {}, changes)
        if "course_of_events" in changes:
            course = changes["course_of_events"]
            draft.course_of_events = None if course is None else [_course_event(event) for event in course]
        if "marking" in changes:
            draft.marking = changes["marking"]
        if "distribution" in changes:
            draft.distribution = list(changes["distribution"] or [])
        draft.updated_by, draft.updated_at = actor, utcnow()
        session.flush()
        audit.record(
            session, actor=actor, action="drill.report.update", entity_type="drill", entity_id=drill_id,
            details={"fields": sorted(changes)},
        )  # fmt: skip


def _course_event(event: dict[str, Any]) -> dict[str, Any]:
    versions = {language: text for language, text in event["text"].items() if text}
    if "fi" not in versions:
        raise Invalid("course_of_events: each event needs its Finnish text (fi)")
    return {"at": event["at"].isoformat(), "kind": event["kind"], "text": versions}


def approve(*, drill_id: int, payload: ReportApprove, actor: str, name: str) -> Approval:
    """Approve the report: its figures and words frozen as a new version, in every language and variant. Needs an
    ended drill, a publicity marking and a distribution list; refused when nothing changed since the last one."""
    with get_database().session() as session:
        drill = service.get_drill(session, drill_id=drill_id)
        if drill.ended_at is None:
            raise Conflict(f"drill {drill_id} is {drill.state.value}; a report is approved once the drill has ended")
        draft = _draft_to_write(session, drill_id=drill_id, actor=actor)
        latest = narrative.latest_version(session, drill_id=drill_id)
        changed = payload.marking not in (None, draft.marking) or (
            payload.distribution is not None and payload.distribution != draft.distribution
        )
        if not changed and not narrative.changed_since_approval(draft, latest):
            assert latest is not None
            raise Conflict(f"version {latest.version} is approved and nothing has changed since")
        if payload.marking is not None:
            draft.marking = payload.marking
        if payload.distribution is not None:
            draft.distribution = list(payload.distribution)
        if draft.marking is None:
            raise Invalid("marking: choose the publicity marking (public, personal_data or secret_24_1_8)")
        if not draft.distribution:
            raise Invalid("distribution: give the distribution list")
        now = utcnow()
        draft.updated_at = now  # the version approved now holds everything written so far
        number = (latest.version if latest else 0) + 1
        documents = {
            language: {
                variant: _frozen(session, drill_id, language, variant, number, draft, approver=name, now=now)
                for variant in VARIANTS
            }
            for language in LANGUAGES
        }
        session.add(
            ReportVersion(
                drill_id=drill_id, version=number, approved_by=name, approved_at=now, marking=draft.marking,
                distribution=list(draft.distribution), documents=documents,
            )
        )  # fmt: skip
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict(f"version {number} of drill {drill_id}'s report was approved at the same moment") from exc
        audit.record(
            session, actor=actor, action="drill.report.approve", entity_type="drill", entity_id=drill_id,
            details={"version": number, "marking": draft.marking},
        )  # fmt: skip
        return Approval.model_validate(documents["fi"]["full"]["approval"])


def _frozen(
    session: Session,
    drill_id: int,
    language: str,
    variant: Variant,
    number: int,
    draft: ReportDraft,
    *,
    approver: str,
    now: datetime,
) -> dict[str, Any]:
    report = build_report(session, drill_id=drill_id, language=language, **VARIANTS[variant])
    approval = Approval(
        state="approved",
        version=number,
        approved_by=None if variant == "redacted" else approver,
        approved_at=now,
        marking=draft.marking,
        marking_text=narrative.marking_text(draft.marking, language),
        distribution=report.approval.distribution,
    )
    frozen: dict[str, Any] = json.loads(as_json(report.model_copy(update={"approval": approval})))
    return frozen


def _revived(document: dict[str, Any]) -> Report:
    people = (_PEOPLE if document["redacted"] else _NAMED_PEOPLE).validate_python(document["people"])
    return Report.model_validate(document | {"people": people})


def report_document(
    session: Session,
    *,
    drill_id: int,
    language: str,
    redact: bool = False,
    contact_details: bool = True,
    version: int | None = None,
) -> Report:
    """The report a reader asks for: version ``version``; or, without one, the latest approved version unless the
    report has changed since (then the draft of the next version, made now)."""
    variant = variant_of(redact=redact, contact_details=contact_details)
    if version is not None:
        frozen = narrative.get_version(session, drill_id=drill_id, version=version)
        if frozen is None:
            service.get_drill(session, drill_id=drill_id)
            raise NotFound(f"drill {drill_id}'s report has no approved version {version}")
        return _revived(frozen.documents[language][variant])
    latest = narrative.latest_version(session, drill_id=drill_id)
    draft = narrative.draft_of(session, drill_id=drill_id)
    if latest is not None and not narrative.changed_since_approval(draft, latest):
        return _revived(latest.documents[language][variant])
    return build_report(session, drill_id=drill_id, language=language, redact=redact, contact_details=contact_details)


def words_read(session: Session, *, drill_id: int) -> dict[str, Any]:
    """What ``PATCH …/report`` answers: the sections and the approval as they are now (in Finnish)."""
    report = report_document(session, drill_id=drill_id, language="fi", contact_details=False)
    return {"sections": report.sections, "approval": report.approval}
