"""Text per language, and which version of it a reader gets.

``LocalizedText`` is what a person wrote in one or more of the languages people read: a plain string is Finnish;
``{"fi": …, "sv": …, "en": …}`` gives the other versions, Finnish required. ``versions_for`` is the one rule that
picks the version(s) each reader gets (docs/alerting.md §3):

1. the reader's own language, when the text has it;
2. otherwise, in a bilingual organisation (Finnish and Swedish, like Kokkola and the county), Finnish and Swedish
   together when the text has a Swedish version;
3. otherwise Finnish, which every text has.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from alueturva.api_types import refuse_control_characters
from alueturva.i18n import LANGUAGES, Language

Version = tuple[Language, ...]
"""The languages of one rendering: ``("sv",)``, or ``("fi", "sv")`` for Finnish and Swedish together."""

BILINGUAL: frozenset[str] = frozenset({"fi", "sv"})


class LocalizedText(BaseModel):
    """A text in Finnish, and optionally in Swedish and English. A blank version is no version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fi: str
    sv: str | None = None
    en: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_string_is_finnish(cls, value: Any) -> Any:
        return {"fi": value} if isinstance(value, str) else value

    @field_validator("fi", "sv", "en", mode="after")
    @classmethod
    def _tidy(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = refuse_control_characters(value.strip())
        return value or None

    @field_validator("fi", mode="after")
    @classmethod
    def _finnish_is_required(cls, value: str | None) -> str:
        if not value:
            raise ValueError("the Finnish text (fi) is required and cannot be empty")
        return value

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        versions = handler(schema)
        return {
            "anyOf": [{"type": "string", "description": "Finnish"}, versions],
            "description": 'A plain string is Finnish; or {"fi": …, "sv": …, "en": …} with fi required',
        }

    @property
    def languages(self) -> Version:
        """The languages this text has, Finnish first."""
        return tuple(language for language in LANGUAGES if self.get(language))

    def get(self, language: str) -> str | None:
        return getattr(self, language, None) if language in LANGUAGES else None

    def __getitem__(self, language: str) -> str:
        text = self.get(language)
        if text is None:
            raise KeyError(language)
        return text

    def longest(self) -> int:
        return max(len(self[language]) for language in self.languages)


def versions_for(available: Collection[str], *, reader: str, organisation_languages: Collection[str]) -> Version:
    """The version a reader whose language is ``reader`` gets of a text that exists in ``available`` languages
    (Finnish always), in an organisation whose official languages are ``organisation_languages``."""
    for language in LANGUAGES:
        if language == reader and language in available:
            return (language,)
    if "sv" in available and set(organisation_languages) >= BILINGUAL:
        return ("fi", "sv")
    return ("fi",)


def version_label(version: Version) -> str:
    """``sv``, or ``fi+sv`` for Finnish and Swedish together (in messages about a version)."""
    return "+".join(version)
