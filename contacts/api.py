"""Roster routes (docs/architecture.md §5): viewers read, admins edit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response, status

from alueturva.api_types import MAX_ID, PathId, SafeQueryText
from alueturva.audit.reads import record_reads
from alueturva.auth.dependencies import Admin, DbSession, Viewer
from alueturva.errors import API_ERRORS
from alueturva.i18n import Language
from contacts import catalogue, compliance, compliance_text, flows, read, roster, roster_csv, service
from contacts.schemas import (
    ComplianceRead,
    GroupCreate,
    GroupDetail,
    GroupList,
    GroupRead,
    GroupUpdate,
    ImportReportRead,
    MemberCreate,
    MemberUpdate,
    OrganisationCreate,
    OrganisationList,
    OrganisationRead,
    OrganisationUpdate,
    PersonCreate,
    PersonList,
    PersonRead,
    PersonUpdate,
    RoleList,
    RoleRead,
)

router = APIRouter(prefix="/api/v1", tags=["contacts"], responses=API_ERRORS)

CSV_BODY = Body(
    media_type="text/csv",
    description="Roster CSV (UTF-8, `;` or `,`)",
    openapi_examples={"roster": {"value": ";".join(roster_csv.COLUMNS)}},
)

# Organisations ---------------------------------------------------------------------------------------------------


@router.get("/organisations", response_model=OrganisationList)
def list_organisations(session: DbSession, _: Viewer) -> OrganisationList:
    rows = service.list_organisations(session)
    return OrganisationList(items=[OrganisationRead.model_validate(o) for o in rows], total=len(rows))


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead)
def get_organisation(organisation_id: PathId, session: DbSession, _: Viewer) -> OrganisationRead:
    return OrganisationRead.model_validate(service.get_organisation(session, organisation_id=organisation_id))


@router.post("/organisations", response_model=OrganisationRead, status_code=status.HTTP_201_CREATED)
def create_organisation(body: OrganisationCreate, principal: Admin) -> OrganisationRead:
    return flows.create_organisation(values=body.model_dump(), actor=principal)


@router.patch("/organisations/{organisation_id}", response_model=OrganisationRead)
def update_organisation(organisation_id: PathId, body: OrganisationUpdate, principal: Admin) -> OrganisationRead:
    values = body.model_dump(exclude_unset=True)
    return flows.update_organisation(organisation_id=organisation_id, values=values, actor=principal)


@router.delete("/organisations/{organisation_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_organisation(organisation_id: PathId, principal: Admin) -> Response:
    flows.delete_organisation(organisation_id=organisation_id, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# People ------------------------------------------------------------------------------------------------------------


@router.get("/people", response_model=PersonList)
def list_people(
    session: DbSession,
    principal: Viewer,
    organisation_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    active: bool | None = None,
    q: Annotated[SafeQueryText | None, Query(max_length=100, description="Part of a name or title")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PersonList:
    rows, total = service.list_people(
        session, organisation_id=organisation_id, active=active, query=q, limit=limit, offset=offset
    )
    details = principal.sees_contact_details
    if details:  # a list is a read of each person's contact details it shows
        record_reads(session, actor=principal.actor, person_ids=(p.id for p in rows), route="GET /api/v1/people")
    return PersonList(items=[read.person_read(p, contact_details=details) for p in rows], total=total)


@router.get("/people/{person_id}", response_model=PersonRead)
def get_person(person_id: PathId, session: DbSession, principal: Viewer) -> PersonRead:
    person = service.get_person(session, person_id=person_id)
    if principal.sees_contact_details:
        record_reads(session, actor=principal.actor, person_ids=[person.id], route="GET /api/v1/people/{id}")
    return read.person_read(person, contact_details=principal.sees_contact_details)


@router.post("/people", response_model=PersonRead, status_code=status.HTTP_201_CREATED)
def create_person(body: PersonCreate, principal: Admin) -> PersonRead:
    return flows.create_person(values=body.model_dump(), actor=principal)


@router.patch("/people/{person_id}", response_model=PersonRead)
def update_person(person_id: PathId, body: PersonUpdate, principal: Admin) -> PersonRead:
    return flows.update_person(person_id=person_id, values=body.model_dump(exclude_unset=True), actor=principal)


@router.delete("/people/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_person(person_id: PathId, principal: Admin) -> Response:
    flows.delete_person(person_id=person_id, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Groups ------------------------------------------------------------------------------------------------------------


@router.get("/groups", response_model=GroupList)
def list_groups(session: DbSession, _: Viewer) -> GroupList:
    rows = service.list_groups(session)
    items = [GroupRead.model_validate(g).model_copy(update={"member_count": n}) for g, n in rows]
    return GroupList(items=items, total=len(items))


@router.get("/groups/{group_id}", response_model=GroupDetail)
def get_group(group_id: PathId, session: DbSession, _: Viewer) -> GroupDetail:
    return read.group_detail(service.get_group(session, group_id=group_id))


@router.post("/groups", response_model=GroupDetail, status_code=status.HTTP_201_CREATED)
def create_group(body: GroupCreate, principal: Admin) -> GroupDetail:
    return flows.create_group(values=body.model_dump(), actor=principal)


@router.patch("/groups/{group_id}", response_model=GroupDetail)
def update_group(group_id: PathId, body: GroupUpdate, principal: Admin) -> GroupDetail:
    return flows.update_group(group_id=group_id, values=body.model_dump(exclude_unset=True), actor=principal)


@router.delete("/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_group(group_id: PathId, principal: Admin) -> Response:
    flows.delete_group(group_id=group_id, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/groups/{group_id}/members", response_model=GroupDetail, status_code=status.HTTP_201_CREATED)
def add_member(group_id: PathId, body: MemberCreate, principal: Admin) -> GroupDetail:
    return flows.add_member(group_id=group_id, member=body, actor=principal)


@router.patch("/groups/{group_id}/members/{membership_id}", response_model=GroupDetail)
def update_member(group_id: PathId, membership_id: PathId, body: MemberUpdate, principal: Admin) -> GroupDetail:
    values = body.model_dump(exclude_unset=True)
    return flows.update_member(group_id=group_id, membership_id=membership_id, values=values, actor=principal)


@router.delete("/groups/{group_id}/members/{membership_id}", response_model=GroupDetail)
def remove_member(group_id: PathId, membership_id: PathId, principal: Admin) -> GroupDetail:
    return flows.remove_member(group_id=group_id, membership_id=membership_id, actor=principal)


# Roles, import, export, compliance ---------------------------------------------------------------------------------


@router.get("/roles", response_model=RoleList)
def list_roles(_: Viewer) -> RoleList:
    roles = [
        RoleRead(
            key=r.key,
            names=r.names.model_dump(),
            basis=r.basis,
            deputy=r.deputy,
            group=r.group,
            required=r.required.model_dump(mode="json") if r.required else None,
            recommended=r.recommended.model_dump(mode="json") if r.recommended else None,
        )
        for r in catalogue.catalogue().roles
    ]
    return RoleList(items=roles, total=len(roles))


@router.post("/rosters/import", response_model=ImportReportRead)
def import_roster(
    principal: Admin,
    body: Annotated[bytes, CSV_BODY] = b"",
    dry_run: Annotated[bool, Query(description="Validate and list the changes, change nothing")] = False,
    replace: Annotated[
        bool, Query(description="Also remove from each group in the file the members the file does not name")
    ] = False,
) -> ImportReportRead:
    """Import a roster CSV, all or nothing. The file's people and memberships are added and updated; members absent
    from the file stay unless ``replace=true``. The answer names every person added, changed and removed, per
    group."""
    report = roster.import_roster(data=body, dry_run=dry_run, actor=principal, replace=replace)
    return ImportReportRead.model_validate(report.as_dict())


@router.get("/rosters/export", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_roster(session: DbSession, principal: Admin) -> Response:
    exported = roster.export_roster(session)
    record_reads(
        session,
        actor=principal.actor,
        person_ids=service.roster_person_ids(session),
        route="GET /api/v1/rosters/export",
    )
    return Response(
        exported.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="alueturva-roster.csv"'},
    )


@router.get(
    "/rosters/compliance",
    response_model=ComplianceRead,
    responses={200: {"content": {"text/plain": {}}}},
)
def roster_compliance(
    session: DbSession,
    _: Viewer,
    format: Annotated[Literal["json", "text"], Query(description="json for programs, text for people")] = "json",
    language: Annotated[Language, Query()] = "fi",
) -> ComplianceRead | Response:
    """What the agreement requires of each organisation, area and the region (a named, reachable person per
    required role; one valmiusjohtoryhmä member per area), apart from what is only recommended (deputies, both
    channels, roles the agreement does not ask for)."""
    report = compliance.check_compliance(session)
    if format == "text":
        return Response(compliance_text.render_text(report, language), media_type="text/plain; charset=utf-8")
    return ComplianceRead(
        generated_at=report.generated_at,
        complete=report.complete,
        complete_with_recommendations=report.complete_with_recommendations,
        met=report.met,
        total=report.total,
        recommendations_met=report.recommendations_met,
        recommendations_total=len(report.all_results()),
        organisations=report.organisations,
        areas=report.areas,
        region=report.region,
        rules=report.rules,
    )
