"""Configuration as data: YAML files in ``config/`` validated by pydantic models.

A mistake is reported with the file, the line and the path of keys, and stops the service from starting.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Model = TypeVar("Model", bound=BaseModel)


class ConfigError(Exception):
    pass


class ConfigModel(BaseModel):
    """A part of a configuration file: an unknown key is a mistake (a typo would otherwise be ignored silently)."""

    model_config = ConfigDict(extra="forbid")


class Names(ConfigModel):
    """A name in each language people read."""

    fi: str = Field(min_length=1)
    sv: str = Field(min_length=1)
    en: str = Field(min_length=1)


def check_known(values: Iterable[str], known: Collection[str], what: str, *, hint: str = "") -> None:
    """Refuse the first value that is not one of ``known``, listing those that are."""
    for value in values:
        if value not in known:
            raise ValueError(f"unknown {what} '{value}'; known: {', '.join(sorted(known))}{hint}")


def check_in_order(keys: Sequence[str], expected: Sequence[str], what: str) -> None:
    """Refuse a list that does not name ``expected`` once each, in that order."""
    if tuple(keys) != tuple(expected):
        raise ValueError(f"list the {what} {', '.join(expected)} once each, in this order")


# The configuration folder of the checkout, beside the packages: data read by path, never imported (a top-level
# package named ``config`` would collide with any library of that name). The project is installed editable
# (`pip install -e .`), so the folder stays where the layout has it (README, "How it is installed").
CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def config_path(name: str) -> Path:
    """The shipped default file ``config/<name>``."""
    return CONFIG_DIR / name


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        if node is None:
            return None
    return None if node is None else node.start_mark.line + 1


def load_yaml(path: Path, model: type[Model]) -> Model:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_yaml(text, model, str(path))


def parse_yaml(text: str, model: type[Model], source: str) -> Model:
    """YAML ``text`` (from ``source``, as messages name it) validated by ``model``; a mistake names the line."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = _line_of(root, loc)
            where = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{source}:{line or '?'}: {where}: {error['msg']}")
        raise ConfigError("invalid configuration:\n" + "\n".join(problems)) from exc
