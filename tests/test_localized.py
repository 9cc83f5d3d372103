"""Text per language, and the one rule that picks the version(s) a reader gets (alueturva/localized.py)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from alueturva.localized import LocalizedText, versions_for

BILINGUAL = ["fi", "sv"]  # Kokkola, the county
FINNISH_ONLY = ["fi"]  # Perho and the other municipalities


class Holder(BaseModel):
    text: LocalizedText


def test_a_string_is_finnish_and_a_mapping_gives_the_other_languages() -> None:
    assert Holder.model_validate({"text": "Myrsky"}).text == LocalizedText(fi="Myrsky")
    both = Holder.model_validate({"text": {"fi": "Myrsky", "sv": "Storm", "en": "  "}}).text
    assert both.languages == ("fi", "sv") and both["sv"] == "Storm" and both.get("en") is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"sv": "Storm"}, "fi"),
        ({"fi": "  "}, "is required and cannot be empty"),
        ({"fi": "x", "de": "Sturm"}, "Extra inputs"),
        ({"fi": "a\x00b"}, "control characters"),
    ],
)
def test_finnish_is_required_and_nothing_else_is_accepted(value: object, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Holder.model_validate({"text": value})


def test_the_schema_says_a_string_or_the_versions() -> None:
    schema = Holder.model_json_schema()
    assert schema["properties"]["text"] == {"$ref": "#/$defs/LocalizedText"}
    string, versions = schema["$defs"]["LocalizedText"]["anyOf"]
    assert string["type"] == "string" and versions["required"] == ["fi"]


@pytest.mark.parametrize(
    ("available", "reader", "organisation", "version"),
    [
        # a Swedish reader gets Swedish when there is a Swedish text ...
        (("fi", "sv"), "sv", BILINGUAL, ("sv",)),
        (("fi", "sv"), "sv", FINNISH_ONLY, ("sv",)),
        # ... and Finnish when there is not, whatever their organisation
        (("fi",), "sv", BILINGUAL, ("fi",)),
        (("fi", "en"), "sv", BILINGUAL, ("fi",)),
        # an English reader in bilingual Kokkola with no English text: Finnish and Swedish together
        (("fi", "sv"), "en", BILINGUAL, ("fi", "sv")),
        # ... but only Finnish when there is no Swedish text either
        (("fi",), "en", BILINGUAL, ("fi",)),
        # an English reader in a Finnish-only municipality: Finnish
        (("fi", "sv"), "en", FINNISH_ONLY, ("fi",)),
        (("fi", "sv", "en"), "en", FINNISH_ONLY, ("en",)),
        # a Finnish reader always gets Finnish; an unknown language is treated as none of ours
        (("fi", "sv", "en"), "fi", BILINGUAL, ("fi",)),
        (("fi", "sv"), "de", FINNISH_ONLY, ("fi",)),
    ],
)
def test_which_version_a_reader_gets(
    available: tuple[str, ...], reader: str, organisation: list[str], version: tuple[str, ...]
) -> None:
    assert versions_for(available, reader=reader, organisation_languages=organisation) == version
