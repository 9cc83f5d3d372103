"""A person's own data in the console (admins): the same export as the API, as PDF in the person's language or JSON."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from alueturva.api_types import PathId
from alueturva.app.personal.read import data_export
from alueturva.app.web.security import AdminUser, PageMissing
from alueturva.audit.reads import record_reads
from alueturva.db import get_database
from alueturva.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.get("/rosters/people/{person_id}/data-export")
def person_data_export(person_id: PathId, user: AdminUser, format: Literal["pdf", "json"] = "pdf") -> Response:
    try:
        with get_database().session() as session:
            exported = data_export(session, person_id=person_id)
            route = "/rosters/people/{id}/data-export"
            record_reads(session, actor=user.principal.actor, person_ids=[person_id], route=route)
    except NotFound as exc:
        raise PageMissing() from exc
    if format == "json":
        return JSONResponse(jsonable_encoder(exported.as_json()))
    headers = {"Content-Disposition": f'inline; filename="person-{person_id}.pdf"'}
    return Response(exported.pdf(), media_type="application/pdf", headers=headers)
