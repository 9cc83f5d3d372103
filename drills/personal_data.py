"""What the drills domain holds about people (alueturva/personal/holders.py): an imported exercise log's people, by
name, number and address, and its rows as read. Retention kind ``deliveries`` (they are a drill's deliveries).
An approved report's frozen versions name the people it reached (kind ``deliveries`` too); feedback requests say
who was asked, and the answers' free texts (kind ``drill_feedback``) are kept apart from anyone.

Someone the roster does not know is counted by what the log says of them (``drills.measures``): their pseudonym is
made of all of it, so distinct people stay distinct and the report's figures stay the same."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session

from alueturva.personal.holders import Holder, Retention, Subject, rows_changed
from alueturva.personal.pseudonym import DIGITS, PREFIX, is_pseudonym, person_pseudonym, pseudonym_of, shown
from drills.feedback import CHOICES as FIXED_ANSWERS
from drills.models import (
    Drill,
    FeedbackAnswer,
    FeedbackRequest,
    ImportedEvent,
    ImportedRecipient,
    ReportFile,
    ReportVersion,
)


def _of(value: str | None, token: str) -> str | None:
    return None if value is None else token


def _expired_recipients(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    query = select(ImportedRecipient.id).where(
        ImportedRecipient.alert_at < before,
        ~ImportedRecipient.name.startswith(PREFIX, autoescape=True),
        ImportedRecipient.id > after_id,
    )
    return session.scalars(query.order_by(ImportedRecipient.id).limit(limit)).all()


def _pseudonymise_recipients(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(
        select(ImportedRecipient.id, ImportedRecipient.name, ImportedRecipient.mobile, ImportedRecipient.email).where(
            ImportedRecipient.id.in_(ids)
        )
    ).all()
    changes = []
    for row in rows:
        token = pseudonym_of(f"imported:{row.name}|{row.mobile or ''}|{row.email or ''}")
        changes.append({"id": row.id, "name": token, "mobile": _of(row.mobile, token), "email": _of(row.email, token)})
    if changes:
        session.execute(update(ImportedRecipient), changes)
    return len(changes)


def _expired_events(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    readable = (ImportedEvent.name.is_not(None) & ~ImportedEvent.name.startswith(PREFIX, autoescape=True)) | (
        ImportedEvent.number.is_not(None) & ~ImportedEvent.number.startswith(PREFIX, autoescape=True)
    )
    query = select(ImportedEvent.id).where(ImportedEvent.at < before, readable, ImportedEvent.id > after_id)
    return session.scalars(query.order_by(ImportedEvent.id).limit(limit)).all()


def _pseudonymise_events(session: Session, *, ids: Sequence[int]) -> int:
    rows = session.execute(
        select(ImportedEvent.id, ImportedEvent.name, ImportedEvent.number, ImportedEvent.email).where(
            ImportedEvent.id.in_(ids)
        )
    ).all()
    changes = []
    for row in rows:
        token = pseudonym_of(f"imported:{row.name or ''}|{row.number or ''}|{row.email or ''}")
        changes.append({"id": row.id, "name": token, "number": _of(row.number, token), "email": _of(row.email, token)})
    if changes:
        session.execute(update(ImportedEvent), changes)
    return len(changes)


def _export_imported(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ImportedRecipient, Drill.name)
        .join(Drill, Drill.id == ImportedRecipient.drill_id)
        .where(ImportedRecipient.person_id == subject.person_id)
        .order_by(ImportedRecipient.alert_at, ImportedRecipient.id)
    ).all()
    return [
        {
            "drill": name,
            "name": recipient.name,
            "mobile": recipient.mobile,
            "email": recipient.email,
            "alerted_at": recipient.alert_at,
            "acknowledged_at": recipient.acknowledged_at,
            "response": recipient.response,
        }
        for recipient, name in rows
    ]


def _erase_imported(session: Session, *, subject: Subject) -> int:
    """Where a log names the person: by the roster's id, or by their number or address."""
    pseudonym = person_pseudonym(subject.person_id)
    addresses = [address for address in (subject.mobile, subject.email) if address]
    recipients = update(ImportedRecipient).where(
        or_(
            ImportedRecipient.person_id == subject.person_id,
            ImportedRecipient.mobile.in_(addresses),
            ImportedRecipient.email.in_(addresses),
        )
    )
    events = update(ImportedEvent).where(or_(ImportedEvent.number.in_(addresses), ImportedEvent.email.in_(addresses)))
    options = {"synchronize_session": False}
    changed = rows_changed(
        session.execute(
            recipients.values(
                name=pseudonym,
                mobile=case((ImportedRecipient.mobile.is_(None), None), else_=pseudonym),
                email=case((ImportedRecipient.email.is_(None), None), else_=pseudonym),
            ),
            execution_options=options,
        )
    )
    changed_events = rows_changed(
        session.execute(
            events.values(
                name=pseudonym,
                number=case((ImportedEvent.number.is_(None), None), else_=pseudonym),
                email=case((ImportedEvent.email.is_(None), None), else_=pseudonym),
            ),
            execution_options=options,
        )
    )
    return changed + changed_events


def _erase_report_files(session: Session, *, subject: Subject) -> int:
    """The built report PDFs (a cache: a report is built again when asked for) may name the person: all go."""
    return rows_changed(session.execute(delete(ReportFile)))


def _replaced(value: Any, replacements: dict[str, str]) -> Any:
    """``value`` (a report's JSON) with every occurrence of each key of ``replacements`` replaced, in any string."""
    if isinstance(value, dict):
        return {key: _replaced(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, replacements) for item in value]
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
    return value


def _shown_pseudonym(language: str) -> re.Pattern[str]:
    """How a pseudonym reads in a report of ``language`` ("Henkilö 7f3a")."""
    example = shown(PREFIX + "0" * DIGITS, language)
    return re.compile(re.escape(example).replace("0000", "[0-9a-f]{4}") + "$")


def _people_in(document: dict[str, Any], language: str, person_id: int | None = None) -> list[dict[str, Any]]:
    """A frozen report's people entries (of ``person_id`` only, if given) that still show a name or an address."""
    pseudonym = _shown_pseudonym(language)
    return [
        entry
        for entry in document.get("people", [])
        if (person_id is None or entry.get("person_id") == person_id)
        and ((entry.get("name") and not pseudonym.match(entry["name"])) or entry.get("mobile") or entry.get("email"))
    ]


def _pseudonymise_documents(
    documents: dict[str, dict[str, Any]], *, person_id: int | None, extra: tuple[str | None, ...] = ()
) -> dict[str, dict[str, Any]]:
    """Every name, number and address of the people (of ``person_id`` only, if given) replaced wherever the report
    quotes them by their pseudonym as each language shows it, and their number and address left out, as a live
    report shows a pseudonymised person; the figures stay as they were."""
    changed: dict[str, dict[str, Any]] = {}
    for language, variants in documents.items():
        replacements: dict[str, str] = {}
        entries = [entry for document in variants.values() for entry in _people_in(document, language, person_id)]
        for entry in entries:
            token = shown(_pseudonym_of_entry(entry), language)
            for field in ("name", "mobile", "email"):
                if entry.get(field) and entry[field] != token:
                    replacements[entry[field]] = token
            entry["mobile"] = entry["email"] = None
        if person_id is not None:
            token = shown(person_pseudonym(person_id), language)
            replacements.update({value: token for value in extra if value})
        changed[language] = _replaced(variants, dict(sorted(replacements.items(), key=lambda kv: -len(kv[0]))))
    return changed


def _pseudonym_of_entry(entry: dict[str, Any]) -> str:
    if entry.get("person_id"):
        return person_pseudonym(entry["person_id"])
    return pseudonym_of(f"report:{entry.get('name') or ''}|{entry.get('mobile') or ''}|{entry.get('email') or ''}")


def _ids_kept(
    page: Callable[[int], Sequence[Any]], keep: Callable[[Any], bool], *, after_id: int, limit: int
) -> list[int]:
    """The ids of up to ``limit`` rows that ``keep`` accepts, read a page at a time (``page(after_id)``, by id)."""
    found: list[int] = []
    while len(found) < limit:
        rows = page(after_id)
        if not rows:
            break
        found += [row.id for row in rows if keep(row)]
        after_id = rows[-1].id
    return found[:limit]


def _expired_versions(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    """Versions approved before ``before`` that still name someone."""

    def page(after: int) -> Sequence[ReportVersion]:
        query = select(ReportVersion).where(ReportVersion.approved_at < before, ReportVersion.id > after)
        return session.scalars(query.order_by(ReportVersion.id).limit(limit)).all()

    return _ids_kept(page, _names_someone, after_id=after_id, limit=limit)


def _names_someone(version: ReportVersion, person_id: int | None = None) -> bool:
    return any(
        _people_in(document, language, person_id)
        for language, variants in version.documents.items()
        for document in variants.values()
    )


def _pseudonymise_versions(session: Session, *, ids: Sequence[int]) -> int:
    versions = session.scalars(select(ReportVersion).where(ReportVersion.id.in_(ids))).all()
    for version in versions:
        version.documents = _pseudonymise_documents(version.documents, person_id=None)
    return len(versions)


def _erase_versions(session: Session, *, subject: Subject) -> int:
    """An approved report stays as approved in its figures; the person becomes their pseudonym in it."""
    changed = 0
    for version in session.scalars(select(ReportVersion)).all():
        if _names_someone(version, subject.person_id):
            version.documents = _pseudonymise_documents(
                version.documents, person_id=subject.person_id, extra=(subject.mobile, subject.email)
            )
            changed += 1
    return changed


def _export_feedback_requests(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    """Who was asked for feedback, when and how; whether they answered (the answers are kept apart from anyone)."""
    rows = session.execute(
        select(FeedbackRequest, Drill.name)
        .join(Drill, Drill.id == FeedbackRequest.drill_id)
        .where(FeedbackRequest.person_id == subject.person_id)
        .order_by(FeedbackRequest.created_at, FeedbackRequest.id)
    ).all()
    return [
        {"drill": name, "channel": r.channel, "sent_at": r.sent_at, "expires_at": r.expires_at, "answered": r.answered}
        for r, name in rows
    ]


def _erase_feedback_requests(session: Session, *, subject: Subject) -> int:
    query = update(FeedbackRequest).where(FeedbackRequest.person_id == subject.person_id).values(person_id=None)
    return rows_changed(session.execute(query, execution_options={"synchronize_session": False}))


def _expired_feedback(session: Session, *, before: datetime, after_id: int, limit: int) -> Sequence[int]:
    """Answers of drills that ended before ``before`` that still hold a free text."""

    def page(after: int) -> Sequence[Any]:
        query = (
            select(FeedbackAnswer.id, FeedbackAnswer.answers)
            .join(Drill, Drill.id == FeedbackAnswer.drill_id)
            .where(Drill.ended_at < before, FeedbackAnswer.id > after)
            .order_by(FeedbackAnswer.id)
            .limit(limit)
        )
        return session.execute(query).all()

    return _ids_kept(page, lambda row: any(_is_free_text(a) for a in row.answers), after_id=after_id, limit=limit)


def _is_free_text(answer: Any) -> bool:
    return isinstance(answer, str) and answer not in FIXED_ANSWERS and not is_pseudonym(answer)


def _pseudonymise_feedback(session: Session, *, ids: Sequence[int]) -> int:
    """A free text past its time becomes a pseudonym of itself: the answer still counts, its words are gone."""
    answers = session.scalars(select(FeedbackAnswer).where(FeedbackAnswer.id.in_(ids))).all()
    for answer in answers:
        answer.answers = [
            pseudonym_of(f"feedback:{answer.id}:{i}") if _is_free_text(a) else a for i, a in enumerate(answer.answers)
        ]
    return len(answers)


HOLDERS = (
    Holder(
        "drills.imported_recipients",
        Retention("deliveries", _expired_recipients, _pseudonymise_recipients),
        export=_export_imported,
        erase=_erase_imported,
    ),
    Holder("drills.imported_events", Retention("deliveries", _expired_events, _pseudonymise_events)),
    Holder("drills.report_files", erase=_erase_report_files),
    Holder(
        "drills.report_versions",
        Retention("deliveries", _expired_versions, _pseudonymise_versions),
        erase=_erase_versions,
    ),
    Holder("drills.feedback_requests", export=_export_feedback_requests, erase=_erase_feedback_requests),
    Holder("drills.feedback_answers", Retention("drill_feedback", _expired_feedback, _pseudonymise_feedback)),
)
