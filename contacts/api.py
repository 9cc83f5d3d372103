"""Roster routes (docs/architecture.md §5): viewers read, admins edit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Response, status

from alueturva.api_types import MAX_ID, PathId, SafeQueryText
from alueturva.auth.dependencies import Admin, DbSession, Viewer
from alueturva.auth.service import Principal
from alueturva.errors import API_ERRORS
from alueturva.i18n import Language
from contacts import catalogue, compliance, compliance_text, roster, roster_csv, service
from contacts.models import Group, Person
from contacts.schemas import (
    ComplianceRead,
    GroupCreate,
    GroupDetail,
    GroupList,
    GroupRead,
    GroupUpdate,
    ImportReportRead,
    MemberCreate,
    MemberRead,
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
def create_organisation(body: OrganisationCreate, session: DbSession, principal: Admin) -> OrganisationRead:
    organisation = service.create_organisation(session, values=body.model_dump(), actor=principal)
    return OrganisationRead.model_validate(organisation)


@router.patch("/organisations/{organisation_id}", response_model=OrganisationRead)
def update_organisation(
    organisation_id: PathId, body: OrganisationUpdate, session: DbSession, principal: Admin
) -> OrganisationRead:
    organisation = service.get_organisation(session, organisation_id=organisation_id)
    service.update_organisation(
        session, organisation=organisation, values=body.model_dump(exclude_unset=True), actor=principal
    )
    return OrganisationRead.model_validate(organisation)


@router.delete("/organisations/{organisation_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_organisation(organisation_id: PathId, session: DbSession, principal: Admin) -> Response:
    organisation = service.get_organisation(session, organisation_id=organisation_id)
    service.delete_organisation(session, organisation=organisation, actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# People ------------------------------------------------------------------------------------------------------------


def _person(person: Person, principal: Principal) -> PersonRead:
    """A person as this caller may see them: without mobile number and email unless an operator or admin."""
    read = PersonRead.model_validate(person)
    return read if principal.sees_contact_details else read.model_copy(update={"mobile": None, "email": None})


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
    return PersonList(items=[_person(p, principal) for p in rows], total=total)


@router.get("/people/{person_id}", response_model=PersonRead)
def get_person(person_id: PathId, session: DbSession, principal: Viewer) -> PersonRead:
    return _person(service.get_person(session, person_id=person_id), principal)


@router.post("/people", response_model=PersonRead, status_code=status.HTTP_201_CREATED)
def create_person(body: PersonCreate, session: DbSession, principal: Admin) -> PersonRead:
    return PersonRead.model_validate(service.create_person(session, values=body.model_dump(), actor=principal))


@router.patch("/people/{person_id}", response_model=PersonRead)
def update_person(person_id: PathId, body: PersonUpdate, session: DbSession, principal: Admin) -> PersonRead:
    person = service.get_person(session, person_id=person_id)
    service.update_person(session, person=person, values=body.model_dump(exclude_unset=True), actor=principal)
    return PersonRead.model_validate(person)


@router.delete("/people/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_person(person_id: PathId, session: DbSession, principal: Admin) -> Response:
    service.delete_person(session, person=service.get_person(session, person_id=person_id), actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Groups ------------------------------------------------------------------------------------------------------------


def _group_detail(group: Group) -> GroupDetail:
    members = [
        MemberRead(
            id=m.id,
            person_id=m.person_id,
            name=m.person.name,
            organisation_id=m.person.organisation_id,
            title=m.person.title,
            role=m.role_key,
            order=m.order,
            deputy_of=m.deputy_of_id,
            active=m.person.active,
        )
        for m in group.members
    ]
    return GroupDetail(
        **GroupRead.model_validate(group).model_dump(exclude={"member_count"}),
        member_count=len(members),
        members=members,
    )


@router.get("/groups", response_model=GroupList)
def list_groups(session: DbSession, _: Viewer) -> GroupList:
    rows = service.list_groups(session)
    items = [GroupRead.model_validate(g).model_copy(update={"member_count": n}) for g, n in rows]
    return GroupList(items=items, total=len(items))


@router.get("/groups/{group_id}", response_model=GroupDetail)
def get_group(group_id: PathId, session: DbSession, _: Viewer) -> GroupDetail:
    return _group_detail(service.get_group(session, group_id=group_id))


@router.post("/groups", response_model=GroupDetail, status_code=status.HTTP_201_CREATED)
def create_group(body: GroupCreate, session: DbSession, principal: Admin) -> GroupDetail:
    group = service.create_group(session, values=body.model_dump(), actor=principal)
    return _group_detail(service.get_group(session, group_id=group.id))


@router.patch("/groups/{group_id}", response_model=GroupDetail)
def update_group(group_id: PathId, body: GroupUpdate, session: DbSession, principal: Admin) -> GroupDetail:
    group = service.get_group(session, group_id=group_id)
    service.update_group(session, group=group, values=body.model_dump(exclude_unset=True), actor=principal)
    return _group_detail(group)


@router.delete("/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_group(group_id: PathId, session: DbSession, principal: Admin) -> Response:
    service.delete_group(session, group=service.get_group(session, group_id=group_id), actor=principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/groups/{group_id}/members", response_model=GroupDetail, status_code=status.HTTP_201_CREATED)
def add_member(group_id: PathId, body: MemberCreate, session: DbSession, principal: Admin) -> GroupDetail:
    group = service.get_group(session, group_id=group_id)
    person = service.get_person(session, person_id=body.person_id)
    service.add_member(
        session,
        group=group,
        person=person,
        role_key=body.role,
        order=body.order,
        deputy_of=body.deputy_of,
        actor=principal,
    )
    return _group_detail(group)


@router.patch("/groups/{group_id}/members/{membership_id}", response_model=GroupDetail)
def update_member(
    group_id: PathId, membership_id: PathId, body: MemberUpdate, session: DbSession, principal: Admin
) -> GroupDetail:
    group = service.get_group(session, group_id=group_id)
    membership = service.get_membership(group, membership_id=membership_id)
    values = body.model_dump(exclude_unset=True)
    renamed = {"role": "role_key", "deputy_of": "deputy_of_id"}
    service.update_member(
        session,
        group=group,
        membership=membership,
        values={renamed.get(k, k): v for k, v in values.items()},
        actor=principal,
    )
    return _group_detail(group)


@router.delete("/groups/{group_id}/members/{membership_id}", response_model=GroupDetail)
def remove_member(group_id: PathId, membership_id: PathId, session: DbSession, principal: Admin) -> GroupDetail:
    group = service.get_group(session, group_id=group_id)
    membership = service.get_membership(group, membership_id=membership_id)
    service.remove_member(session, group=group, membership=membership, actor=principal)
    return _group_detail(group)


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
    session: DbSession,
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
    report = roster.import_roster(session, data=body, dry_run=dry_run, actor=principal, replace=replace)
    return ImportReportRead.model_validate(report.as_dict())


@router.get("/rosters/export", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_roster(session: DbSession, _: Admin) -> Response:
    return Response(
        roster.export_roster(session).encode("utf-8"),
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
