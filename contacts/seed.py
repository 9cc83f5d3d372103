"""Reference data every installation starts with: the organisations, the role catalogue and the built-in groups
(idempotent; run by `db upgrade` and `up`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contacts import catalogue
from contacts.models import Group, Organisation


def _group_name(template: str, organisation: Organisation | None) -> str:
    if organisation is None:
        return template
    return template.format(
        name_fi=organisation.short_name,
        name_sv=organisation.name_sv or organisation.short_name,
        name_en=organisation.short_name,
    )


def seed_reference_data(session: Session) -> None:
    """Create the agreement's organisations and the built-in groups that are missing; never overwrite edits."""
    existing = {o.key: o for o in session.scalars(select(Organisation))}
    for spec in catalogue.organisations().organisations:
        if spec.key in existing:
            continue
        organisation = Organisation(
            key=spec.key,
            short_name=spec.short_name,
            name=spec.name,
            name_sv=spec.name_sv,
            name_en=spec.name_en,
            business_id=spec.business_id,
            kind=spec.kind,
            area=spec.area,
            population=spec.population,
            languages=list(spec.languages),
            parent=existing.get(spec.parent) if spec.parent else None,
        )
        session.add(organisation)
        existing[spec.key] = organisation
    session.flush()

    group_keys = set(session.scalars(select(Group.key)))
    for group_spec in catalogue.catalogue().groups:
        owners: list[Organisation | None] = (
            [o for o in existing.values() if o.kind in group_spec.per_organisation]
            if group_spec.per_organisation
            else [None]
        )
        for owner in owners:
            key = group_spec.key.format(organisation=owner.key) if owner else group_spec.key
            if key in group_keys:
                continue
            session.add(
                Group(
                    key=key,
                    name=_group_name(group_spec.names.fi, owner),
                    name_sv=_group_name(group_spec.names.sv, owner),
                    name_en=_group_name(group_spec.names.en, owner),
                    description=group_spec.description,
                    organisation=owner,
                    builtin=True,
                )
            )
            group_keys.add(key)
    session.flush()
