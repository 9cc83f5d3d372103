"""The languages people read: Finnish first, Swedish (Kokkola and the county are bilingual), English third."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["fi", "sv", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
# Each language's name in itself, for a language chooser.
LANGUAGE_LABELS: tuple[tuple[Language, str], ...] = (("fi", "Suomeksi"), ("sv", "På svenska"), ("en", "In English"))
