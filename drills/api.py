"""The drills HTTP API (docs/architecture.md §5): operators plan and run drills; viewers read them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, File, Form, Path, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from alueturva.api_types import MAX_ID, PathId
from alueturva.audit.reads import record_reads
from alueturva.auth.dependencies import DbSession, Operator, Viewer
from alueturva.db import get_database, utcnow
from alueturva.errors import API_ERRORS, Invalid
from alueturva.i18n import Language
from drills import findings, flows, metrics, plans, read, service
from drills.followup import followup
from drills.imports.export import event_log
from drills.imports.flows import import_log as import_log_flow
from drills.imports.mapping import read_mapping
from drills.models import DrillKind, DrillState, ItemStatus
from drills.report import approval, files, render
from drills.report.schemas import Approval, ReportWords
from drills.schemas import (
    DrillCreate,
    DrillList,
    DrillObservationIn,
    DrillObservationRead,
    DrillRead,
    DrillUpdate,
    FindingIn,
    FindingRead,
    ImprovementItemIn,
    ImprovementItemList,
    ImprovementItemRead,
    ImprovementItemUpdate,
    LogImportRead,
    Marking,
    MetricRecordIn,
    MetricRecordRead,
    ObjectivesAdapter,
    RatingIn,
    ReportApprove,
    ReportUpdate,
    StartIn,
)

router = APIRouter(prefix="/api/v1/drills", tags=["drills"], responses=API_ERRORS)
Number = Annotated[int, Path(ge=1, le=30)]
MAX_LOG_BYTES = 20 * 1024 * 1024  # an exercise log (also the cap on the request: alueturva.app.wiring.body_limits)
MAX_MAPPING_BYTES = 64 * 1024
PDF_RETRY_AFTER_SECONDS = 5


def _attachment(body: bytes, media_type: str, filename: str) -> Response:
    """A file to save (a report's PDF or CSV, an event log)."""
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _read(drill_id: int) -> DrillRead:
    """The drill as it is after a change (a session of its own, begun after the change's commit)."""
    with get_database().session() as session:
        return read.drill_read(session, service.get_drill(session, drill_id=drill_id), now=utcnow())


@router.post(
    "/import",
    response_model=LogImportRead,
    responses={201: {"description": "Imported into a new drill, or added to the one given"}},
)
def import_log(
    principal: Operator,
    response: Response,
    file: Annotated[UploadFile, File(description="The log: CSV (UTF-8 or Windows-1252, ; or ,) or .xlsx")],
    name: Annotated[str | None, Form(max_length=200, description="The drill it becomes")] = None,
    kind: Annotated[DrillKind, Form()] = DrillKind.exercise,
    description: Annotated[str, Form(max_length=4000)] = "",
    drill_id: Annotated[int | None, Form(ge=1, le=MAX_ID, description="An imported drill to add the log to")] = None,
    mapping: Annotated[UploadFile | None, File(description="A mapping (YAML); default: a built-in one")] = None,
    objectives: Annotated[
        str | None, Form(max_length=20_000, description="The objectives, as JSON: the list POST /drills takes")
    ] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> LogImportRead:
    """An exercise run elsewhere, from its log: all or nothing (every wrong row reported, nothing stored), the same
    file never twice. 201 when a drill was made or changed; 200 for a dry run or a file imported before. (A plain
    function: FastAPI runs it in a worker thread, so that reading a large file holds up no other request.)"""
    data = file.file.read(MAX_LOG_BYTES + 1)
    if len(data) > MAX_LOG_BYTES:
        raise Invalid(f"the log is larger than {MAX_LOG_BYTES // (1024 * 1024)} MB; split it")
    goals = None
    if objectives is not None:
        try:
            goals = ObjectivesAdapter.validate_json(objectives)
        except ValidationError as exc:
            raise Invalid(f"objectives: {exc.errors()[0]['msg']} (at {exc.errors()[0]['loc']})") from exc
    given = None
    if mapping is not None:
        text = mapping.file.read(MAX_MAPPING_BYTES + 1).decode("utf-8", errors="replace")
        given = read_mapping(text[:MAX_MAPPING_BYTES], mapping.filename or "mapping")
    result = import_log_flow(
        data=data,
        filename=file.filename or "log",
        mapping=given,
        name=name,
        kind=kind,
        description=description,
        drill_id=drill_id,
        objectives=goals,
        dry_run=dry_run,
        actor=principal.actor,
    )
    if not result.dry_run and not result.already_imported:
        response.status_code = status.HTTP_201_CREATED
    return result


@router.get(
    "/{drill_id}/events.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The drill's event log (names and numbers)"}},
)
def drill_event_log(drill_id: PathId, session: DbSession, _: Operator) -> Response:
    """Every message, delivery, failure and acknowledgement of the drill, in the columns `drill import` reads back
    (the built-in ``alueturva`` mapping). For operators and admins: it names people and their numbers."""
    body = event_log(session, service.get_drill(session, drill_id=drill_id))
    return _attachment(body.encode("utf-8"), render.CSV, f"drill-{drill_id}-events.csv")


@router.post("", response_model=DrillRead, status_code=status.HTTP_201_CREATED)
def plan_drill(body: DrillCreate, principal: Operator) -> DrillRead:
    """Plan a drill: started by hand, once at ``schedule.at`` or recurring on ``schedule.cron`` (Finnish time)."""
    return _read(plans.plan(request=body, actor=principal.actor).id)


@router.get("", response_model=DrillList)
def list_drills(
    session: DbSession,
    _: Viewer,
    state: DrillState | None = None,
    kind: DrillKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> DrillList:
    rows, total = service.list_drills(session, limit=limit, offset=offset, state=state, kind=kind)
    now = utcnow()
    return DrillList(items=[read.summary(drill, now=now) for drill in rows], total=total)


@router.get("/{drill_id}", response_model=DrillRead)
def get_drill(drill_id: PathId, session: DbSession, _: Viewer) -> DrillRead:
    """The drill with its alerts, phases, observations, exercise decisions and objectives evaluated now."""
    return read.drill_read(session, service.get_drill(session, drill_id=drill_id), now=utcnow())


@router.patch("/{drill_id}", response_model=DrillRead)
def update_drill(drill_id: PathId, body: DrillUpdate, principal: Operator) -> DrillRead:
    """Change a planned drill (name, description and contact can always be corrected)."""
    plans.update(drill_id=drill_id, request=body, actor=principal.actor)
    return _read(drill_id)


@router.post("/{drill_id}/start", response_model=DrillRead)
def start_drill(drill_id: PathId, principal: Operator, body: Annotated[StartIn | None, Body()] = None) -> DrillRead:
    """Start a planned drill now (once). Its alerts go out right away, all marked as an exercise."""
    external_sent_at = body.external_sent_at if body else None
    started = flows.start(drill_id=drill_id, actor=principal.actor, external_sent_at=external_sent_at)
    return _read(started.id)


@router.post("/{drill_id}/phases/{number}/start", response_model=DrillRead)
def start_phase(drill_id: PathId, number: Number, principal: Operator) -> DrillRead:
    """Start an exercise's phase: its alert goes out and its snapshot of the exercise picture is frozen (once)."""
    flows.start_phase(drill_id=drill_id, number=number, actor=principal.actor)
    return _read(drill_id)


@router.post("/{drill_id}/end", response_model=DrillRead)
def end_drill(drill_id: PathId, principal: Operator) -> DrillRead:
    """End a running drill now: its alerts close and their escalation stops."""
    flows.end_by_hand(drill_id=drill_id, actor=principal.actor)
    return _read(drill_id)


@router.post("/{drill_id}/cancel", response_model=DrillRead)
def cancel_drill(drill_id: PathId, principal: Operator) -> DrillRead:
    """Cancel a planned drill; a recurring plan runs no more."""
    flows.cancel(drill_id=drill_id, actor=principal.actor)
    return _read(drill_id)


@router.post("/{drill_id}/observations", response_model=DrillObservationRead, status_code=status.HTTP_201_CREATED)
def observe(drill_id: PathId, body: DrillObservationIn, principal: Operator) -> DrillObservationRead:
    """An evaluator's observation: time (default now), author (default who records it), text, optional phase."""
    return flows.observe(drill_id=drill_id, payload=body, actor=principal.actor, name=principal.name)


@router.post("/{drill_id}/objectives/{position}/rating", response_model=DrillRead)
def rate_objective(drill_id: PathId, position: Number, body: RatingIn, principal: Operator) -> DrillRead:
    """Rate a free-text objective afterwards (HSEEP: P, S, M, U)."""
    flows.rate(drill_id=drill_id, position=position, payload=body, actor=principal.actor)
    return _read(drill_id)


@router.get(
    "/{drill_id}/report",
    response_class=Response,
    responses={
        200: {
            "description": "The after-action report: JSON (the source), HTML, PDF, or CSV (per person or organisation)",
            "content": {"application/json": {}, "text/html": {}, "application/pdf": {}, "text/csv": {}},
        },
        202: {"description": "The PDF is being prepared by a worker: ask again at `Location` (after `Retry-After`)"},
    },
)
def drill_report(
    request: Request,
    drill_id: PathId,
    principal: Viewer,
    format: Annotated[Literal["json", "html", "pdf", "csv"], Query()] = "json",
    language: Annotated[Language, Query()] = "fi",
    redact: Annotated[bool, Query(description="Organisations and roles only: no names, numbers or emails")] = False,
    table: Annotated[Literal["people", "organisations"], Query(description="Which table a CSV holds")] = "people",
    version: Annotated[int | None, Query(ge=1, le=10_000, description="An approved version (default: latest)")] = None,
) -> Response:
    """The drill's after-action report and improvement plan, in Finnish, Swedish or English: the latest approved
    version, or the draft of the next one when the report has changed since (``version=N`` reads an older one). The
    CSV (for the councils) is always redacted: organisations and roles, no names or contact details. Mobile numbers
    and email addresses are in operators' and admins' reports only; a redacted report holds no name, number or email
    even in what people wrote."""
    if format == "pdf":  # built by a worker: 202 with where to ask again until it is ready
        variant = files.Variant(
            language, redact=redact, contact_details=principal.sees_contact_details, version=version
        )
        body = files.report_pdf(drill_id=drill_id, variant=variant)
        if body is None:
            return JSONResponse(
                {"detail": "the PDF is being prepared; ask again at Location"},
                status_code=status.HTTP_202_ACCEPTED,
                headers={"Location": str(request.url), "Retry-After": str(PDF_RETRY_AFTER_SECONDS)},
            )
        return _attachment(body, render.PDF, f"drill-{drill_id}-report-{language}.pdf")
    with get_database().session() as session:
        report = approval.report_document(
            session,
            drill_id=drill_id,
            language=language,
            redact=redact or format == "csv",
            contact_details=principal.sees_contact_details,
            version=version,
        )
        if principal.sees_contact_details and not (redact or format == "csv"):
            shown = [pid for person in report.people if isinstance(pid := person.get("person_id"), int)]
            record_reads(session, actor=principal.actor, person_ids=shown, route="GET /api/v1/drills/{id}/report")
    return _answer(render.export(report, format, table=table), f"drill-{drill_id}-report-{language}")


@router.patch("/{drill_id}/report", response_model=ReportWords)
def write_report(drill_id: PathId, body: ReportUpdate, principal: Operator) -> ReportWords:
    """Write the report's narrative sections per language (a language given is set, an empty one cleared), edit the
    course of events (null: made again from what the system knows), choose the publicity marking and the
    distribution list. A change after approval makes the report the draft of its next version."""
    approval.update_report(drill_id=drill_id, payload=body, actor=principal.actor)
    with get_database().session() as session:
        return ReportWords.model_validate(approval.words_read(session, drill_id=drill_id))


@router.post("/{drill_id}/report/approve", response_model=Approval)
def approve_report(
    drill_id: PathId, principal: Operator, body: Annotated[ReportApprove | None, Body()] = None
) -> Approval:
    """Approve the report (a readiness manager): its figures and words are frozen as a new version, readable in
    every format and language ever after. Needs an ended drill, a publicity marking and a distribution list."""
    return approval.approve(
        drill_id=drill_id,
        payload=body or ReportApprove(),
        actor=principal.actor,
        name=principal.name or principal.actor,
    )


def _answer(exported: render.Exported, name: str) -> Response:
    """A page to read (JSON, HTML) in place; a file to save (PDF, CSV) as an attachment named ``name`` + suffix."""
    if exported.to_save:
        return _attachment(exported.body, exported.media_type, f"{name}{exported.suffix}")
    headers = {"Content-Security-Policy": render.REPORT_CSP} if exported.media_type.startswith("text/html") else None
    return Response(exported.body, media_type=exported.media_type, headers=headers)


@router.post("/{drill_id}/findings", response_model=FindingRead, status_code=status.HTTP_201_CREATED)
def add_finding(drill_id: PathId, body: FindingIn, principal: Operator) -> FindingRead:
    """A strength or an area for improvement, written after the drill."""
    return findings.add_finding(drill_id=drill_id, payload=body, actor=principal.actor)


@router.post("/{drill_id}/improvement-items", response_model=ImprovementItemRead, status_code=status.HTTP_201_CREATED)
def add_improvement_item(drill_id: PathId, body: ImprovementItemIn, principal: Operator) -> ImprovementItemRead:
    """An item of the improvement plan: the area for improvement, the corrective action, who and by when."""
    return findings.add_item(drill_id=drill_id, payload=body, actor=principal.actor)


items_router = APIRouter(prefix="/api/v1/improvement-items", tags=["drills"], responses=API_ERRORS)


@items_router.get("", response_model=ImprovementItemList)
def list_improvement_items(
    session: DbSession, _: Viewer, status: Annotated[list[ItemStatus] | None, Query()] = None
) -> ImprovementItemList:
    """The improvement plan across drills (``status=open&status=in_progress`` for what is still to do)."""
    rows = findings.items(session, status=status)
    return ImprovementItemList(items=rows, total=len(rows))


@items_router.patch("/{item_id}", response_model=ImprovementItemRead)
def update_improvement_item(item_id: PathId, body: ImprovementItemUpdate, principal: Operator) -> ImprovementItemRead:
    """Move an item on (in progress, done, dropped) or change its action, owner or due date."""
    return findings.update_item(item_id=item_id, payload=body, actor=principal.actor)


followup_router = APIRouter(prefix="/api/v1/followup", tags=["drills"], responses=API_ERRORS)


@followup_router.get(
    "",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "text/html": {}, "application/pdf": {}}}},
)
def yearly_followup(
    _: Viewer,
    year: Annotated[int, Query(ge=2000, le=2100)],
    format: Annotated[Literal["json", "html", "pdf"], Query()] = "json",
    language: Annotated[Language, Query()] = "fi",
    marking: Annotated[Marking, Query(description="The publicity marking on every page")] = "public",
) -> Response:
    """The councils' yearly follow-up: the agreement's metrics and measures (measured, or recorded with evidence),
    drills held, objectives met, figures per municipality, roster compliance at each drill, improvement items, and
    the year's SMS cost split (the agreement's example, labelled as such)."""
    with get_database().session() as session:
        data = followup(session, year=year, language=language, marking=marking)
    return _answer(render.export(data, format), f"followup-{year}-{language}")


@followup_router.patch("/metrics/{key}", response_model=MetricRecordRead)
def record_metric(
    key: Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")],
    body: MetricRecordIn,
    principal: Operator,
) -> MetricRecordRead:
    """Record one of the agreement's metrics the service cannot measure (the preparedness plan, the autumn seminar,
    civil-defence formations, evacuation planning) for a year: status, evidence (a link or a file name), the date it
    refers to; who recorded it and when are kept. The latest record is the metric's status."""
    row = metrics.record(key=key, payload=body, actor=principal.actor, name=principal.name or principal.actor)
    return MetricRecordRead.model_validate(row, from_attributes=True)
