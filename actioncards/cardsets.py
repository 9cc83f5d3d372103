"""Card sets as YAML files (one file per set): checked against the configuration, read with bounds, written back.

A file is at most ``MAX_SET_BYTES`` long, uses no YAML anchors or aliases (a few lines of aliases can expand into
millions of nodes) and no tags, and holds at most ``MAX_CARDS`` cards of ``MAX_TASKS`` tasks each.
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from actioncards import service
from actioncards.models import ActionCard
from actioncards.schemas import CardIn, CardSet
from alueturva.errors import Invalid, NotFound
from contacts.catalogue import roles_by_key
from situation.config import area_keys, rank, readiness_config

MAX_SET_BYTES = 512 * 1024


def check_card(card: CardIn, *, where: str = "") -> None:
    """Refuse what the configuration does not know: the level (a raised one), the area, the roles, the indicators."""
    config = readiness_config()
    levels = [level.key for level in config.levels]
    problems = []
    if card.level is not None and (card.level not in levels or rank(card.level) == 0):
        raised = ", ".join(level for level in levels if rank(level) > 0)
        problems.append(f"level: '{card.level}' is not a raised readiness level; use one of {raised}")
    if card.area not in area_keys():
        problems.append(f"area: unknown area '{card.area}'; known: {', '.join(area_keys())}")
    indicators = {indicator.key for indicator in config.indicators}
    problems += [f"indicators: unknown indicator '{key}'" for key in card.indicators if key not in indicators]
    roles = roles_by_key()
    problems += [
        f"tasks.{position}.role: unknown role '{task.role}'; known: {', '.join(roles)}"
        for position, task in enumerate(card.tasks, start=1)
        if task.role not in roles
    ]
    if problems:
        raise Invalid("; ".join(f"{where}{problem}" for problem in problems))


def check_set(card_set: CardSet) -> None:
    keys = [card.key for card in card_set.cards]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise Invalid(f"cards: the key {', '.join(repeated)} appears more than once")
    for index, card in enumerate(card_set.cards):
        check_card(card, where=f"cards.{index} ({card.key}): ")


def _refuse_aliases_and_tags(text: str) -> None:
    for token in yaml.scan(text):
        if isinstance(token, (yaml.AliasToken, yaml.AnchorToken)):
            raise Invalid(f"line {token.start_mark.line + 1}: YAML anchors and aliases are not allowed in a card set")
        if isinstance(token, yaml.TagToken):
            raise Invalid(f"line {token.start_mark.line + 1}: YAML tags are not allowed in a card set")


def parse_set(data: bytes, *, source: str = "card set") -> CardSet:
    """A card set file, read with bounds and checked whole; a mistake is a 422 naming the line or the field."""
    if len(data) > MAX_SET_BYTES:
        raise Invalid(f"{source}: larger than {MAX_SET_BYTES // 1024} kB; split it into several sets")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    try:
        _refuse_aliases_and_tags(text)
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Invalid(f"{source}: not valid YAML: {exc}") from exc
    try:
        card_set = CardSet.model_validate(loaded)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise Invalid(f"{source}: {where}: {first['msg']} ({exc.error_count()} problem(s) in all)") from exc
    check_set(card_set)
    return card_set


def card_in(card: ActionCard) -> CardIn:
    """A stored card in the shape it is written and imported in."""
    return CardIn.model_validate(
        {
            "key": card.key,
            **{name: getattr(card, name) for name in ("card_set", "scenario", "title", "level", "drill_kind")},
            **{name: getattr(card, name) for name in ("area", "indicators", "active")},
            "tasks": [
                {
                    "text": task.text,
                    "role": task.role,
                    "target": task.target.value,
                    "due_minutes": task.due_minutes,
                    "check": task.check,
                }
                for task in card.tasks
            ],
        }
    )


def dump_set(name: str, cards: Iterable[ActionCard]) -> str:
    """A card set as YAML, readable and importable again as it is."""
    document = {
        "set": name,
        "cards": [card_in(card).model_dump(mode="json", exclude={"card_set"}, exclude_none=True) for card in cards],
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110)


def export_set(session: Session, *, card_set: str) -> str:
    cards = service.list_cards(session, card_set=card_set)
    if not cards:
        raise NotFound(f"no cards in the set '{card_set}'")
    return dump_set(card_set, cards)
