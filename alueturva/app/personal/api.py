"""Personal-data routes (docs/personal-data.md): a person's own data for an admin, and erasing a person."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from alueturva.api_types import PathId
from alueturva.app.personal.flows import erase_person
from alueturva.app.personal.read import data_export
from alueturva.audit.reads import record_reads
from alueturva.auth.dependencies import Admin, DbSession
from alueturva.errors import API_ERRORS
from alueturva.i18n import Language

router = APIRouter(prefix="/api/v1", tags=["personal data"], responses=API_ERRORS)


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=500, description="Why (a request, a legal ground); never the name")


class ErasedRead(BaseModel):
    person_id: int
    erased_at: datetime
    rows: dict[str, int]


@router.get(
    "/people/{person_id}/data-export",
    responses={200: {"content": {"application/json": {}, "application/pdf": {}}}},
)
def get_data_export(
    person_id: PathId,
    session: DbSession,
    principal: Admin,
    format: Literal["json", "pdf"] = "json",
    language: Language | None = Query(None, description="The PDF's language; default: the person's own"),
) -> Response:
    """Everything held about one person: roster entry, groups and roles, alerts, deliveries, replies and
    acknowledgements, imported logs, audit entries about them, a console account and its sign-ins. As JSON, or as a
    PDF in the person's language."""
    exported = data_export(session, person_id=person_id, language=language)
    record_reads(session, actor=principal.actor, person_ids=[person_id], route="GET /api/v1/people/{id}/data-export")
    if format == "pdf":
        headers = {"Content-Disposition": f'attachment; filename="person-{person_id}.pdf"'}
        return Response(exported.pdf(), media_type="application/pdf", headers=headers)
    return JSONResponse(jsonable_encoder(exported.as_json()))


@router.post("/people/{person_id}/erase", response_model=ErasedRead)
def erase(person_id: PathId, body: EraseRequest, principal: Admin) -> ErasedRead:
    """Remove the person from every roster and pseudonymise every row about them ("Henkilö 7f3a"). Reports keep their
    figures and show the pseudonym; the compliance report shows their roles unfilled. 409 if erased already."""
    erased = erase_person(person_id=person_id, reason=body.reason, actor=principal)
    return ErasedRead(person_id=erased.person_id, erased_at=erased.erased_at, rows=erased.rows)
