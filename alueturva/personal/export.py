"""A person's own data (docs/personal-data.md §2): everything every registered holder keeps about them, as JSON and
as a PDF a person reads, wholly in their language."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from alueturva.i18n import format_time
from alueturva.personal.holders import Subject, registered
from alueturva.texts import TextFile, load_texts


def texts() -> TextFile:
    return load_texts(Path(__file__).with_name("texts.yaml"))


def collect(session: Session, *, subject: Subject) -> list[dict[str, Any]]:
    """Each holder's rows about ``subject``, in the order the holders were registered (empty holders too: the
    person sees what is kept nowhere)."""
    return [
        {"key": holder.name, "rows": holder.export(session, subject=subject)}
        for holder in registered()
        if holder.export is not None
    ]


def _shown(value: Any, language: str) -> str:
    words = texts()
    if value is None:
        return "–"
    if isinstance(value, bool):
        return words.text("yes" if value else "no", language)
    if isinstance(value, datetime):
        return format_time(value, language)
    if isinstance(value, dict):
        return str(value.get(language) or value.get("fi") or "")
    if isinstance(value, str) and f"value.{value}" in words.entries:
        return words.text(f"value.{value}", language)
    return str(value)


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(enabled_extensions=("html", "j2")),
        undefined=StrictUndefined,
    )


def html(sections: list[dict[str, Any]], *, name: str, language: str, moment: datetime) -> str:
    words = texts()
    shown_sections = [
        {
            "title": words.text(f"section.{section['key']}", language),
            "columns": [words.text(f"field.{key}", language) for key in section["rows"][0]] if section["rows"] else [],
            "rows": [[_shown(value, language) for value in row.values()] for row in section["rows"]],
        }
        for section in sections
    ]
    return (
        _environment()
        .get_template("data_export.html.j2")
        .render(
            language=language,
            title=words.text("export_title", language),
            intro=words.text("export_intro", language, name=name, moment=format_time(moment, language)),
            none=words.text("export_none", language),
            sections=shown_sections,
        )
    )


def pdf(sections: list[dict[str, Any]], *, name: str, language: str, moment: datetime) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html(sections, name=name, language=language, moment=moment)).write_pdf())
