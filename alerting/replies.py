"""Understanding SMS replies: "OK", "ok 4821", "Kuittaa", "KVITTERA", "1", "2 4821" (case, spaces, punctuation
forgiven)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from alueturva.digits import is_ascii_number

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_SWEDISH_HINTS = frozenset({"kvittera", "kvitterar", "kvitterat", "ja", "tack", "mottaget"})
_ENGLISH_HINTS = frozenset({"ack", "acknowledge", "acknowledged", "yes", "received"})


@dataclass(frozen=True)
class Reply:
    acknowledges: bool  # an acknowledgement word, an option or a bare code
    option: int | None  # a poll answer, 1-based
    code: str | None  # the alert's short code, when given
    language_hint: str | None  # for answering people we do not know


def parse_reply(body: str, *, keywords: frozenset[str]) -> Reply:
    words = _WORD.findall(unicodedata.normalize("NFKC", body).casefold())
    code = next((word for word in words if len(word) == 4 and is_ascii_number(word)), None)
    option = next((int(word) for word in words if len(word) == 1 and is_ascii_number(word) and word != "0"), None)
    keyword = any(word in keywords for word in words)
    hint = (
        "sv"
        if any(word in _SWEDISH_HINTS for word in words)
        else "en"
        if any(word in _ENGLISH_HINTS for word in words)
        else None
    )
    return Reply(
        acknowledges=keyword or option is not None or code is not None, option=option, code=code, language_hint=hint
    )
