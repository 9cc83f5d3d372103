"""A person's data export, read through every registered holder (the route, the console page and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alueturva.db import utcnow
from alueturva.personal import export
from alueturva.personal.holders import Subject
from alueturva.personal.pseudonym import shown
from contacts import service


@dataclass(frozen=True)
class DataExport:
    person_id: int
    name: str
    language: str
    generated_at: datetime
    sections: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "language": self.language,
            "generated_at": self.generated_at,
            "sections": self.sections,
        }

    def pdf(self) -> bytes:
        return export.pdf(self.sections, name=self.name, language=self.language, moment=self.generated_at)

    def html(self) -> str:
        return export.html(self.sections, name=self.name, language=self.language, moment=self.generated_at)


def data_export(session: Session, *, person_id: int, language: str | None = None) -> DataExport:
    """Everything held about the person (404 for an unknown one), in their language unless another is asked."""
    person = service.get_person(session, person_id=person_id)
    subject = Subject(person_id=person.id, mobile=person.mobile, email=person.email)
    language = language or person.language
    return DataExport(
        person_id=person.id,
        name=shown(person.name, language),
        language=language,
        generated_at=utcnow(),
        sections=export.collect(session, subject=subject),
    )
