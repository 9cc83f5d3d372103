"""The report's words in Finnish, Swedish and English (``texts.yaml``), checked when loaded: every section has the
same keys in each language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from alueturva.i18n import LANGUAGES

Words = dict[str, dict[str, str]]
# For each compared figure of the report: whether a higher value is better (None: neither).
HIGHER_IS_BETTER = {
    "targeted": None,
    "acknowledged_share": True,
    "delivered_share": True,
    "ack_median": False,
    "ack_p90": False,
    "objectives_met": True,
}


@lru_cache(maxsize=1)
def _sections() -> dict[str, Words]:
    sections: dict[str, Words] = yaml.safe_load(Path(__file__).with_name("texts.yaml").read_text(encoding="utf-8"))
    for name, section in sections.items():
        keys = {language: set(section.get(language, {})) for language in LANGUAGES}
        if len({frozenset(k) for k in keys.values()}) != 1:
            raise ValueError(f"drills/report/texts.yaml: section {name} lacks words in a language: {keys}")
    return sections


def words(section: str) -> Words:
    """A section's words: ``words("report")["sv"]["title"]``."""
    return _sections()[section]


FIXES, HOW, FIGURES, REPORT, FOLLOWUP = (words(name) for name in ("fixes", "how", "figures", "report", "followup"))
