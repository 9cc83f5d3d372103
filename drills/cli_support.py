"""What the drill commands share: the console, the language option, input checked like the API's, output files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from alueturva.errors import Invalid

console = Console()

Language = Annotated[str, typer.Option("--language", help="fi, sv or en")]


def validated(model: Any, data: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from exc


def write_output(content: str | bytes, output: Path | None) -> None:
    if output is None:
        if isinstance(content, bytes):
            raise Invalid("a PDF is written to a file: give --output FILE")
        typer.echo(content, nl=False)
        return
    output.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    console.print(f"wrote {output}")
