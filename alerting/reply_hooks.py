"""The seam through which another domain answers an SMS reply that is its own (an action card's "T1 OK"), through
the same signed webhook, without this domain importing it. A handler gets the inbound transaction's session, the
sender (a person of the roster), their language, the text and the time; it returns the reply to send back, or None
when the text is not its own (then the reply is read as an acknowledgement, as before). The application registers
handlers (``alueturva.app.wiring``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

ReplyHandler = Callable[[Session, int, str, str, datetime], str | None]
_handlers: list[ReplyHandler] = []


def register_reply_handler(handler: ReplyHandler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def unregister_reply_handler(handler: ReplyHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def hooked_answer(session: Session, *, person_id: int, language: str, body: str, now: datetime) -> str | None:
    for handler in _handlers:
        answer = handler(session, person_id, language, body, now)
        if answer is not None:
            return answer
    return None
