"""HTTP routes of the situational picture, observations and readiness decisions (docs/architecture.md §5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, status
from pydantic import Discriminator, Tag

from alueturva.api_types import PeriodEnd, PeriodStart
from alueturva.auth.dependencies import DbSession, Operator, Reporter, Viewer
from alueturva.errors import API_ERRORS
from situation import decisions, flows, history, observations, service
from situation.schemas import (
    CapImportResult,
    DecisionIn,
    DecisionOut,
    DecisionPreview,
    HistoryOut,
    IngestResult,
    ObservationBatch,
    ObservationIn,
    PictureOut,
    SnapshotIn,
    SnapshotList,
    SnapshotOut,
    SnapshotSummary,
    StatusReportIn,
    StatusReportOut,
)

router = APIRouter(prefix="/api/v1", tags=["situation"], responses=API_ERRORS)
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DrillQuery = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="A drill's exercise picture instead of the real one")
]


def _one_or_many(value: Any) -> str:
    return "many" if isinstance(value, dict) and "observations" in value else "one"


ObservationsBody = Annotated[
    Annotated[ObservationBatch, Tag("many")] | Annotated[ObservationIn, Tag("one")],
    Discriminator(_one_or_many),
    Body(
        description='One observation, or {"observations": [...]} for many; all are stored or none.',
        openapi_examples={
            "one": {
                "value": {
                    "indicator": "power_outage_customers",
                    "area": "kokkola",
                    "value": 12.5,
                    "observed_at": "2026-11-28T12:00:00Z",
                    "source": "verkkoyhtio",
                    "source_id": "outage-2026-11-28T12",
                }
            }
        },
    ),
]


@router.get("/situation")
def get_situation(session: DbSession, _: Viewer, drill_id: DrillQuery = None) -> PictureOut:
    """The picture: per area the decided level, the recommended level and why, the indicators, anticipation.
    With ``drill_id``, that drill's exercise picture (its observations and decisions over the real ones)."""
    return PictureOut.model_validate(flows.current_picture(session, drill_id=drill_id))


@router.get("/situation/history")
def get_history(
    session: DbSession,
    _: Viewer,
    start: Annotated[PeriodStart, Query(alias="from")],
    end: Annotated[PeriodEnd, Query(alias="to")],
    area: Annotated[str | None, Query(max_length=40)] = None,
    indicator: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> HistoryOut:
    """Decided and recommended levels and observations over a period (observations up to ``limit``). Times
    without an offset are Finnish time; ``from=2025-11-01&to=2025-11-30`` is the whole of November in Finland."""
    past = history.history(session, start=start, end=end, area=area, indicator=indicator, limit=limit)
    return HistoryOut.model_validate(past)


@router.post("/situation/snapshots", status_code=status.HTTP_201_CREATED)
def post_snapshot(body: SnapshotIn, principal: Operator) -> SnapshotOut:
    """Freeze the picture as it is now (with ``drill_id``: that running drill's exercise picture)."""
    return history.take_snapshot(label=body.label, actor=principal.actor, drill_id=body.drill_id)


@router.get("/situation/snapshots")
def list_snapshots(
    session: DbSession,
    _: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    drill_id: DrillQuery = None,
) -> SnapshotList:
    rows, total = service.list_snapshots(session, limit=limit, offset=offset, drill_id=drill_id)
    items = [SnapshotSummary(id=s.id, label=s.label, taken_at=s.taken_at, taken_by=s.taken_by) for s in rows]
    return SnapshotList(items=items, total=total)


@router.get("/situation/snapshots/{snapshot_id}")
def get_snapshot(snapshot_id: RowId, session: DbSession, _: Viewer) -> SnapshotOut:
    return history.get_snapshot(session, snapshot_id=snapshot_id)


@router.post("/situation/status-reports", status_code=status.HTTP_201_CREATED)
def post_status_report(body: StatusReportIn, principal: Reporter) -> StatusReportOut:
    """A municipality's own status: management group convened, staff availability, key services running."""
    return flows.report_status(payload=body, actor=principal.actor)


@router.post("/observations")
def post_observations(
    body: ObservationsBody,
    principal: Reporter,
    drill_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Observations of this running drill's exercise picture")
    ] = None,
) -> IngestResult:
    """Store one or many observations; a re-sent (source, source_id) is counted as a duplicate, not stored."""
    items = body.observations if isinstance(body, ObservationBatch) else [body]
    return observations.ingest_observations(items=items, actor=principal.actor, drill_id=drill_id)


async def _xml_body(request: Request) -> bytes:
    """The CAP file (capped at ``situation.cap.MAX_CAP_BYTES`` while it streams in: ``wiring.body_limits``)."""
    return await request.body()


@router.post(
    "/observations/cap",
    openapi_extra={"requestBody": {"content": {"application/xml": {"schema": {"type": "string"}}}}},
)
def post_cap(document: Annotated[bytes, Depends(_xml_body)], principal: Reporter) -> CapImportResult:
    """Import a CAP 1.2 warning (e.g. an FMI weather warning) as observations for the matching municipalities."""
    return observations.import_cap(document=document, actor=principal.actor)


@router.post("/readiness/decisions/preview")
def preview_decision(body: DecisionIn, session: DbSession, _: Operator) -> DecisionPreview:
    """What the decision would set in motion, without making it: the reaction rules and how many people they alert."""
    return decisions.preview(session, payload=body)


@router.post("/readiness/decisions", status_code=status.HTTP_201_CREATED)
def post_decision(body: DecisionIn, principal: Operator) -> DecisionOut:
    """Decide an area's readiness level with a reason (with ``drill_id``: an exercise decision in that running drill,
    which never changes the real level). The reactions it sets in motion are dispatched right after the commit, so
    the answer lists the alerts they sent; one that fails is retried by the scheduler."""
    return decisions.decide(payload=body, actor=principal.actor)


@router.get("/readiness/decisions/{decision_id}")
def get_decision(decision_id: RowId, session: DbSession, _: Viewer) -> DecisionOut:
    return decisions.get_decision(session, decision_id=decision_id)
