"""Rosters: who is named for what in each organisation and what is missing (``contacts.compliance``), the people
and the groups; admins edit people and memberships through ``contacts.flows``, validated by the API's schemas.
Numbers and email addresses are shown to operators and admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from alueturva.api_types import PathId
from alueturva.app.web.layout import page_language, render
from alueturva.app.web.security import AdminUser, PageMissing, ViewerUser
from alueturva.audit.reads import record_reads
from alueturva.auth.models import Role
from alueturva.auth.sessions import SignedIn
from alueturva.db import get_database
from alueturva.errors import DomainError, NotFound
from contacts import catalogue, compliance, flows, service
from contacts.schemas import MemberCreate, PersonCreate, PersonUpdate

router = APIRouter(include_in_schema=False)

PERSON_FIELDS = ("name", "organisation_id", "title", "mobile", "email", "language")
PEOPLE_PAGE = 100


def _role_names(language: str) -> dict[str, str]:
    return {role.key: getattr(role.names, language) for role in catalogue.catalogue().roles}


@router.get("/rosters", response_class=HTMLResponse)
def rosters(request: Request, user: ViewerUser) -> HTMLResponse:
    with get_database().session() as session:
        report = compliance.check_compliance(session)
        groups = service.list_groups(session)
    language = page_language(request)
    area_names = {key: names[language] for key, names in catalogue.area_names().items()}
    return render(
        request,
        "rosters.html.j2",
        user=user,
        report=report,
        groups=groups,
        total=len(report.all_results()),
        area_names=area_names,
    )


@router.get("/rosters/people", response_class=HTMLResponse)
def people(
    request: Request,
    user: ViewerUser,
    organisation: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    with get_database().session() as session:
        rows, total = service.list_people(
            session,
            organisation_id=organisation,
            query=q.strip() or None,
            limit=PEOPLE_PAGE,
            offset=(page - 1) * PEOPLE_PAGE,
        )
        organisations = service.list_organisations(session)
        names = {o.id: o.short_name for o in organisations}
        listed = [{"person": p, "organisation": names[p.organisation_id]} for p in rows]
        if user.principal.may(Role.operator):  # the page shows each listed person's number and address
            shown = [p.id for p in rows]
            record_reads(session, actor=user.principal.actor, person_ids=shown, route="/rosters/people")
    return render(
        request,
        "people.html.j2",
        user=user,
        people=listed,
        total=total,
        page=page,
        pages=max(1, -(-total // PEOPLE_PAGE)),
        organisations=organisations,
        organisation=organisation,
        q=q,
        show_contact=user.principal.may(Role.operator),
    )


def _person_values(form: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {field: (form.get(field) or "").strip() or None for field in PERSON_FIELDS}
    values["active"] = form.get("active") == "on"
    return values


def _person_page(
    request: Request,
    user: SignedIn,
    *,
    person_id: int | None,
    values: dict[str, Any],
    errors: list[str],
    status_code: int = 200,
) -> HTMLResponse:
    with get_database().session() as session:
        organisations = service.list_organisations(session)
        memberships, groups = [], []
        if person_id is not None:
            person = service.get_person(session, person_id=person_id)
            memberships = [(m.group_id, m.group.name, m.role_key) for m in person.memberships]
            groups = [(g.id, g.name) for g, _ in service.list_groups(session)]
    return render(
        request,
        "person.html.j2",
        user=user,
        status_code=status_code,
        person_id=person_id,
        values=values,
        errors=errors,
        organisations=organisations,
        memberships=memberships,
        groups=groups,
        roles=_role_names(page_language(request)),
        may_edit=user.principal.may(Role.admin),
        show_contact=user.principal.may(Role.operator),
    )


# A person's field, and the page's words when its value was refused.
_FIELD_ERRORS = {
    "mobile": "person_mobile_invalid",
    "email": "person_email_invalid",
    "name": "person_name_invalid",
    "organisation": "person_organisation_invalid",
    "language": "person_language_invalid",
}


def _errors(exc: ValidationError | DomainError) -> list[str]:
    """What was wrong, as the page's own words (text keys; the service's English messages never reach a page)."""
    said = str(exc.detail) if isinstance(exc, DomainError) else " ".join(str(e["loc"][-1]) for e in exc.errors())
    found = [key for field, key in _FIELD_ERRORS.items() if field in said]
    return found or ["check_values"]


@router.get("/rosters/people/new", response_class=HTMLResponse)
def new_person(request: Request, user: AdminUser) -> HTMLResponse:
    blank = dict.fromkeys(PERSON_FIELDS, None) | {"language": "fi", "active": True}
    return _person_page(request, user, person_id=None, values=blank, errors=[])


@router.post("/rosters/people/new", response_class=HTMLResponse)
async def create_person(request: Request, user: AdminUser) -> Response:
    values = _person_values({k: str(v) for k, v in (await request.form()).items()})
    try:
        body = PersonCreate.model_validate(values)
        person_id = flows.create_person(values=body.model_dump(), actor=user.principal).id
    except (ValidationError, DomainError) as exc:
        return _person_page(request, user, person_id=None, values=values, errors=_errors(exc), status_code=422)
    return RedirectResponse(f"/rosters/people/{person_id}", status_code=303)


@router.get("/rosters/people/{person_id}", response_class=HTMLResponse)
def person_page(request: Request, person_id: PathId, user: ViewerUser) -> HTMLResponse:
    try:
        with get_database().session() as session:
            person = service.get_person(session, person_id=person_id)
            values = {field: getattr(person, field) for field in PERSON_FIELDS} | {"active": person.active}
            if user.principal.may(Role.operator):
                route = "/rosters/people/{id}"
                record_reads(session, actor=user.principal.actor, person_ids=[person_id], route=route)
    except NotFound as exc:
        raise PageMissing() from exc
    return _person_page(request, user, person_id=person_id, values=values, errors=[])


@router.post("/rosters/people/{person_id}", response_class=HTMLResponse)
async def update_person(request: Request, person_id: PathId, user: AdminUser) -> Response:
    values = _person_values({k: str(v) for k, v in (await request.form()).items()})
    try:
        body = PersonUpdate.model_validate(values)
        flows.update_person(person_id=person_id, values=body.model_dump(exclude_unset=True), actor=user.principal)
    except (ValidationError, DomainError) as exc:
        return _person_page(request, user, person_id=person_id, values=values, errors=_errors(exc), status_code=422)
    return RedirectResponse(f"/rosters/people/{person_id}?saved=1", status_code=303)


@router.post("/rosters/people/{person_id}/memberships", response_class=HTMLResponse)
def add_membership(
    request: Request,
    person_id: PathId,
    user: AdminUser,
    group_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    role: Annotated[str, Form(max_length=60)],
) -> Response:
    try:
        flows.add_member(group_id=group_id, member=MemberCreate(person_id=person_id, role=role), actor=user.principal)
    except (ValidationError, DomainError) as exc:
        return _person_page(
            request, user, person_id=person_id, values=_current(person_id), errors=_errors(exc), status_code=422
        )
    return RedirectResponse(f"/rosters/people/{person_id}", status_code=303)


def _current(person_id: int) -> dict[str, Any]:
    with get_database().session() as session:
        person = service.get_person(session, person_id=person_id)
        return {field: getattr(person, field) for field in PERSON_FIELDS} | {"active": person.active}


@router.get("/rosters/groups/{group_id}", response_class=HTMLResponse)
def group_page(request: Request, group_id: PathId, user: ViewerUser) -> HTMLResponse:
    try:
        with get_database().session() as session:
            group = service.get_group(session, group_id=group_id)
            members = [
                {
                    "id": m.id,
                    "person_id": m.person_id,
                    "name": m.person.name,
                    "title": m.person.title,
                    "role": m.role_key,
                    "deputy_of": m.deputy_of_id,
                    "active": m.person.active,
                }
                for m in group.members
            ]
            names = {m["id"]: m["name"] for m in members}
            group_name = group.name
    except NotFound as exc:
        raise PageMissing() from exc
    return render(
        request,
        "group.html.j2",
        user=user,
        group_id=group_id,
        group_name=group_name,
        members=members,
        deputy_names=names,
        roles=_role_names(page_language(request)),
    )


@router.post("/rosters/groups/{group_id}/members/{membership_id}/remove")
def remove_member(group_id: PathId, membership_id: PathId, user: AdminUser) -> Response:
    flows.remove_member(group_id=group_id, membership_id=membership_id, actor=user.principal)
    return RedirectResponse(f"/rosters/groups/{group_id}", status_code=303)
