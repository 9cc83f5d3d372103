"""Drill report PDFs, built by a worker and kept until the report changes.

WeasyPrint takes tens of seconds and hundreds of megabytes for a large drill, so no request builds a PDF: asking
for one answers with the file when the report it was built from is still the report as it is now (the SHA-256 of
its JSON but its time of making: any change to the drill, its objectives, findings or log changes it), and otherwise
asks a worker to build it and says it is being prepared. A worker process builds one PDF at a time
(``PDF_BUILDS_AT_ONCE``); a build that finds another running is queued again a little later, so a worker thread never
waits for one, and alerts keep their workers. A build lost with its job (Redis flushed, a worker killed) is asked
again after ``REQUEUE_AFTER``."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alueturva.db import get_database, utcnow
from alueturva.queue import get_queue
from drills.models import ReportFile
from drills.report.approval import report_document
from drills.report.render import as_json, report_as_pdf
from drills.report.schemas import Report

log = logging.getLogger(__name__)

PDF_BUILDS_AT_ONCE = 1  # per worker process
RETRY_BUSY = timedelta(seconds=3)
REQUEUE_AFTER = timedelta(minutes=5)
_builds = threading.BoundedSemaphore(PDF_BUILDS_AT_ONCE)


@dataclass(frozen=True)
class Variant:
    """Which report of a drill: its language, whether it is redacted or without contact details, and which approved
    version (None: the one a reader gets by default, ``approval.report_document``)."""

    language: str
    redact: bool = False
    contact_details: bool = True
    version: int | None = None

    @property
    def key(self) -> str:
        kind = "redacted" if self.redact else "full" if self.contact_details else "names"
        return f"{self.language}:{kind}" + ("" if self.version is None else f":v{self.version}")

    @classmethod
    def parse(cls, key: str) -> Variant:
        language, kind, *version = key.split(":")
        number = int(version[0].removeprefix("v")) if version else None
        return cls(language, redact=kind == "redacted", contact_details=kind == "full", version=number)


def _report(drill_id: int, variant: Variant) -> tuple[Report, str]:
    with get_database().session() as session:
        report = report_document(
            session,
            drill_id=drill_id,
            language=variant.language,
            redact=variant.redact,
            contact_details=variant.contact_details,
            version=variant.version,
        )
    return report, _fingerprint(report)


def _fingerprint(report: Report) -> str:
    """The SHA-256 of what the report says (not of when it was made)."""
    content = json.loads(as_json(report))
    content.pop("generated_at", None)
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


def report_pdf(*, drill_id: int, variant: Variant) -> bytes | None:
    """The PDF if one was built from the report as it is now; otherwise None, and a worker has been asked to build it
    (a drill not held yet is refused as for any report: ``Conflict``)."""
    _, fingerprint = _report(drill_id, variant)
    now = utcnow()
    try:
        with get_database().session() as session:
            row = _row(session, drill_id, variant)
            if row is not None and row.fingerprint == fingerprint:
                if row.body is not None:
                    return row.body
                if row.requested_at > now - REQUEUE_AFTER:
                    return None  # being built
            if row is None:
                row = ReportFile(drill_id=drill_id, variant=variant.key)
                session.add(row)
            row.fingerprint, row.body, row.built_at, row.requested_at = fingerprint, None, None, now
    except IntegrityError:
        return None  # asked at the same moment by someone else, who queued it
    get_queue().enqueue(
        build_pdf,
        drill_id,
        variant.key,
        job_id=f"drill-pdf-{drill_id}-{variant.key.replace(':', '-')}-{fingerprint[:16]}",
    )
    return None


def build_pdf(drill_id: int, variant_key: str) -> None:
    """The job: build the PDF of the report as it is now and keep it (one at a time in this process)."""
    if not _builds.acquire(blocking=False):
        get_queue().enqueue(build_pdf, drill_id, variant_key, delay=RETRY_BUSY)
        return
    try:
        _build(drill_id, Variant.parse(variant_key))
    finally:
        _builds.release()


def _row(session: Session, drill_id: int, variant: Variant) -> ReportFile | None:
    return session.scalar(select(ReportFile).where(ReportFile.drill_id == drill_id, ReportFile.variant == variant.key))


def _build(drill_id: int, variant: Variant) -> None:
    report, fingerprint = _report(drill_id, variant)
    with get_database().session() as session:
        row = _row(session, drill_id, variant)
        if row is None or (row.body is not None and row.fingerprint == fingerprint):
            return  # the drill is gone, or this very PDF was built by a job asked twice
    body = report_as_pdf(report)  # no database connection is held while WeasyPrint works
    with get_database().session() as session:
        row = session.scalar(
            select(ReportFile).where(ReportFile.drill_id == drill_id, ReportFile.variant == variant.key)
        )
        if row is None:
            return  # the drill was deleted meanwhile
        row.fingerprint, row.body, row.built_at = fingerprint, body, utcnow()
    log.info("report pdf built", extra={"drill_id": drill_id, "variant": variant.key, "bytes": len(body)})
