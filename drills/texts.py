"""The words a drill puts into its messages, in Finnish, Swedish and English."""

from __future__ import annotations

from datetime import datetime

from alueturva.i18n import LANGUAGES, format_time
from drills.models import Drill

DEFAULT_EXTERNAL_SYSTEM = "Erica"
# A poll answer is one text for everyone, so in the region's two official languages.
COMING_OPTIONS = ("Tulen paikalle / Jag kommer", "En pääse / Jag kan inte komma")
RECEIVED_OPTIONS = ("Sain / Jag fick det", "En saanut / Jag fick det inte")

_REACH_TITLE = {
    "fi": "Saitko {system}-testiviestin?",
    "sv": "Fick du testmeddelandet från {system}?",
    "en": "Did you get the {system} test message?",
}
_REACH_MESSAGE = {
    "fi": "{system}-järjestelmän kautta lähetettiin testiviesti {time}. Saitko sen?",
    "sv": "Ett testmeddelande skickades via {system} {time}. Fick du det?",
    "en": "A test message was sent through {system} on {time}. Did you get it?",
}


def reach_question(drill: Drill, sent_at: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """The question an external-system test sends the same people, so that the other system's reach is measured:
    the drill's own title and message when it has them, the standard question otherwise."""
    system = drill.external_system or DEFAULT_EXTERNAL_SYSTEM
    title = drill.title or {language: _REACH_TITLE[language].format(system=system) for language in LANGUAGES}
    message = drill.message or {
        language: _REACH_MESSAGE[language].format(system=system, time=format_time(sent_at, language))
        for language in LANGUAGES
    }
    return title, message
