from __future__ import annotations

import typer

roster_app = typer.Typer(help="Rosters: import, export and compliance.", no_args_is_help=True)
