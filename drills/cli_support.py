"""What the drill commands share: the console, the language option, input checked like the API's, output files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from alueturva.errors import Invalid

if TYPE_CHECKING:
    from drills.report.render import Exported


def console() -> Console:
    """The terminal, as it is now (its width read at each command, not once at import). Messages are read whole and
    copied: not wrapped."""
    return Console(soft_wrap=True)


Language = Annotated[str, typer.Option("--language", help="fi, sv or en")]

OBJECTIVE_HELP = (
    "An objective (repeatable): ack_share_within:PERCENT:MINUTES, every_organisation_within:MINUTES, "
    "every_area_within:MINUTES, max_unreachable:COUNT or manual:TEXT"
)
OBJECTIVE_FIELDS = {
    "ack_share_within": ("percent", "minutes"),
    "every_organisation_within": ("minutes",),
    "every_area_within": ("minutes",),
    "max_unreachable": ("count",),
    "manual": ("text",),
}


def objective_option(text: str) -> dict[str, Any]:
    kind, _, rest = text.partition(":")
    fields = OBJECTIVE_FIELDS.get(kind.strip())
    if fields is None:
        raise Invalid(f"--objective {text!r}: the kind is one of {', '.join(OBJECTIVE_FIELDS)}")
    values = [rest] if fields == ("text",) else rest.split(":")
    if len(values) != len(fields) or not all(value.strip() for value in values):
        raise Invalid(f"--objective {text!r}: give {kind}:{':'.join(field.upper() for field in fields)}")
    return {"kind": kind.strip(), **dict(zip(fields, (value.strip() for value in values), strict=True))}


def validated(model: Any, data: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from exc


def write_output(content: Exported | str, output: Path | None) -> None:
    """A report, a follow-up or a text to ``output``, or to standard output unless it is a PDF."""
    binary = not isinstance(content, str) and content.binary
    body = content.encode("utf-8") if isinstance(content, str) else content.body
    if output is None:
        if binary:
            raise Invalid("a PDF is written to a file: give --output FILE")
        typer.echo(body.decode("utf-8"), nl=False)
        return
    output.write_bytes(body)
    console().print(f"wrote {output}")
