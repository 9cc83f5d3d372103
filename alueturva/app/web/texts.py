"""Every word the web console shows, in Finnish, Swedish and English, from ``texts.yaml`` (one entry per text,
all three languages required: a missing translation stops the service at start, not on a page at 03:00)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from alueturva.i18n import LANGUAGES

TEXTS_FILE = Path(__file__).with_name("texts.yaml")


@lru_cache(maxsize=1)
def all_texts() -> dict[str, dict[str, str]]:
    """{language: {key: text}}, checked to have every key in every language."""
    entries: dict[str, dict[str, str]] = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    by_language: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    for key, versions in entries.items():
        missing = [language for language in LANGUAGES if not (versions or {}).get(language)]
        if missing:
            raise ValueError(f"{TEXTS_FILE.name}: '{key}' has no text in {', '.join(missing)}")
        for language in LANGUAGES:
            by_language[language][key] = str(versions[language])
    return by_language


def texts(language: str) -> dict[str, str]:
    return all_texts().get(language, all_texts()["fi"])
