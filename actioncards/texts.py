"""The action cards domain's words in Finnish, Swedish and English (``texts.yaml``, checked whole when loaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alueturva.texts import load_texts


def text(key: str, language: str, /, **values: Any) -> str:
    return load_texts(Path(__file__).with_name("texts.yaml")).text(key, language, **values)
