"""Importing the log of an exercise run elsewhere as a drill: all or nothing, and never twice.

The file is read through its mapping; if any row is wrong, nothing is stored and every problem is reported (row,
column, what is wrong). The same file (by its SHA-256) is imported once; a row already in the drill (the same time,
recipient, channel, event, answer and phase) is not added again, so a second log of the same exercise (the phone
calls after the SMS gateway's log) adds only what is new. A dry run reports the same and stores nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.db import get_database, utcnow
from alueturva.errors import Conflict, Invalid, NotFound
from drills.imports.derive import derive
from drills.imports.mapping import LogMapping, choose
from drills.imports.matching import Roster
from drills.imports.reading import Table, read_table
from drills.imports.rows import LogEvent, RowError, read_events
from drills.models import Drill, DrillImport, DrillKind, DrillState, ImportedEvent
from drills.plans import objective_rows
from drills.schemas import LogImportRead, ObjectiveIn

MAX_ERRORS_LISTED = 100


class LogRejected(Invalid):
    """The file cannot be imported: ``detail`` has the message and the problems, row by row."""

    def __init__(self, message: str, errors: list[RowError], rows: int) -> None:
        listed = [{"row": e.row, "column": e.column, "message": e.message} for e in errors[:MAX_ERRORS_LISTED]]
        super().__init__({"message": message, "rows": rows, "errors": listed, "errors_total": len(errors)})


def _target(
    session: Session, *, drill_id: int | None, name: str | None, kind: DrillKind, now: Any, actor: str
) -> Drill:
    if drill_id is not None:
        drill = session.get(Drill, drill_id)
        if drill is None:
            raise NotFound(f"no drill with id {drill_id}")
        if drill.origin != "import":
            raise Conflict(f"drill {drill_id} was run here; a log is imported into a new drill or an imported one")
        return drill
    if not name or not name.strip():
        raise Invalid("name the drill the log becomes (--name), or give an imported drill to add it to (--drill)")
    drill = Drill(
        name=name.strip()[:200],
        kind=kind,
        state=DrillState.ended,
        origin="import",
        targets={},
        title={},
        message={},
        response_options=[],
        created_by=actor,
        created_at=now,
    )
    session.add(drill)
    session.flush()
    return drill


def _new_events(session: Session, drill: Drill, events: list[LogEvent]) -> tuple[list[LogEvent], int, int]:
    """The events not yet in the drill; how many rows repeat another row of the file, and how many the drill has."""
    present = set(session.scalars(select(ImportedEvent.row_key).where(ImportedEvent.drill_id == drill.id)))
    new: dict[str, LogEvent] = {}
    repeated = already = 0
    for event in events:
        key = event.key
        if key in present:
            already += 1
        elif key in new:
            repeated += 1
        else:
            new[key] = event
    return list(new.values()), repeated, already


def import_log(
    *,
    data: bytes,
    filename: str,
    mapping: LogMapping | None,
    name: str | None,
    kind: DrillKind = DrillKind.exercise,
    description: str = "",
    drill_id: int | None = None,
    objectives: list[ObjectiveIn] | None = None,
    dry_run: bool = False,
    actor: str,
) -> LogImportRead:
    """Import ``data`` (a file named ``filename``) into a new drill, or into the imported drill ``drill_id``, all or
    nothing and never twice, in a transaction of its own; ``objectives`` (optional) are measured against the log as
    for any drill (they can be set later too). The whole file is read and checked before the database is touched,
    so a refused file never holds a connection or (on SQLite) the write lock."""
    table = read_table(data, filename=filename, sheet=mapping.sheet if mapping else None)
    chosen = choose(table.header, mapping)
    events, errors = read_events(table, chosen)
    if errors:
        raise LogRejected(
            f"{filename}: nothing was imported; fix these rows and import it again", errors, len(table.rows)
        )
    if not events:
        raise Invalid(f"{filename} has a header but no rows")
    with get_database().session() as session:
        return _import_log(
            session,
            data=data,
            filename=filename,
            table=table,
            chosen=chosen,
            events=events,
            name=name,
            kind=kind,
            description=description,
            drill_id=drill_id,
            objectives=objectives,
            dry_run=dry_run,
            actor=actor,
        )


def _import_log(
    session: Session,
    *,
    data: bytes,
    filename: str,
    table: Table,
    chosen: LogMapping,
    events: list[LogEvent],
    name: str | None,
    kind: DrillKind,
    description: str,
    drill_id: int | None,
    objectives: list[ObjectiveIn] | None,
    dry_run: bool,
    actor: str,
) -> LogImportRead:
    sha256 = hashlib.sha256(data).hexdigest()
    earlier = session.scalar(select(DrillImport).where(DrillImport.sha256 == sha256))
    if earlier is not None:
        return LogImportRead(
            drill_id=earlier.drill_id,
            dry_run=dry_run,
            already_imported=True,
            source=earlier.source,
            sha256=sha256,
            mapping=str(earlier.mapping.get("name")),
            rows=earlier.rows,
        )
    now = utcnow()
    savepoint = session.begin_nested()
    drill = _target(session, drill_id=drill_id, name=name, kind=kind, now=now, actor=actor)
    if description:
        drill.description = description[:4000]
    if objectives is not None:
        drill.objectives = objective_rows(objectives)
    new, repeated, already = _new_events(session, drill, events)
    record = DrillImport(
        drill_id=drill.id,
        source=filename[:255],
        sha256=sha256,
        mapping=chosen.model_dump(mode="json"),
        rows=len(table.rows),
        events=len(new),
        imported_by=actor,
        imported_at=now,
    )
    session.add(record)
    session.flush()
    session.add_all(
        ImportedEvent(
            drill_id=drill.id,
            import_id=record.id,
            row_number=e.row,
            row_key=e.key,
            at=e.at,
            name=e.name,
            number=e.number,
            email=e.email,
            organisation=e.organisation,
            channel=e.channel,
            event=e.event,
            answer=e.answer,
            error=e.error,
            phase=e.phase,
        )
        for e in new
    )
    session.flush()
    derived = derive(session, drill=drill, roster=Roster(session))
    result = LogImportRead(
        drill_id=None if dry_run else drill.id,
        dry_run=dry_run,
        already_imported=False,
        source=filename,
        sha256=sha256,
        mapping=chosen.name,
        encoding=table.encoding,
        rows=len(table.rows),
        events=len(new),
        repeated_rows=repeated,
        already_in_drill=already,
        recipients=derived.recipients,
        matched=derived.matched,
        unmatched=derived.unmatched,
        phases=derived.phases,
        started_at=drill.started_at,
        ended_at=drill.ended_at,
    )
    if dry_run:
        savepoint.rollback()
        return result
    savepoint.commit()
    audit.record(
        session,
        actor=actor,
        action="drill.import",
        entity_type="drill",
        entity_id=drill.id,
        details={
            "source": filename[:255],
            "sha256": sha256,
            "mapping": chosen.name,
            "rows": len(table.rows),
            "events": len(new),
            "unmatched": len(derived.unmatched),
        },
    )
    return result
