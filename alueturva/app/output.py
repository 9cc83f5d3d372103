"""Printing for the command line, with rich imported only when something is printed (so that help stays quick)."""

from __future__ import annotations


def say(text: str, *, err: bool = False) -> None:
    """Print rich markup, unwrapped (CLI messages are read whole and copied)."""
    from rich.console import Console

    Console(stderr=err, soft_wrap=True).print(text)


def show(renderable: object) -> None:
    """Print a rich renderable (a table, a panel)."""
    from rich.console import Console

    Console(soft_wrap=True).print(renderable)
