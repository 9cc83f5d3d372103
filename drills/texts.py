"""The words a drill puts into its messages, in Finnish, Swedish and English."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alueturva.i18n import LANGUAGES, format_number, format_time
from drills.models import Drill

DEFAULT_EXTERNAL_SYSTEM = "Erica"
# The default poll answers, in every language; an alert uses the languages its title is written in.
COMING_OPTIONS = (
    {"fi": "Tulen paikalle", "sv": "Jag kommer", "en": "I am coming"},
    {"fi": "En pääse", "sv": "Jag kan inte komma", "en": "I cannot come"},
)
RECEIVED_OPTIONS = (
    {"fi": "Sain", "sv": "Jag fick det", "en": "I got it"},
    {"fi": "En saanut", "sv": "Jag fick det inte", "en": "I did not get it"},
)

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


MET_WORDS = {
    "fi": {True: "täyttyi", False: "ei täyttynyt", None: "kesken"},
    "sv": {True: "uppfyllt", False: "inte uppfyllt", None: "pågår"},
    "en": {True: "met", False: "not met", None: "open"},
}
RATINGS = {
    "fi": {
        "P": "suoritettiin ilman haasteita",
        "S": "suoritettiin, joitakin haasteita",
        "M": "suoritettiin, merkittäviä haasteita",
        "U": "ei pystytty suorittamaan",
    },
    "sv": {
        "P": "utfördes utan utmaningar",
        "S": "utfördes med vissa utmaningar",
        "M": "utfördes med stora utmaningar",
        "U": "kunde inte utföras",
    },
    "en": {
        "P": "performed without challenges",
        "S": "performed with some challenges",
        "M": "performed with major challenges",
        "U": "unable to be performed",
    },
}
_VALUES = {
    "fi": {
        "share": "{acknowledged_within}/{targeted} kuittasi ajoissa ({percent} %)",
        "coverage": "{reached}/{targeted} tavoitettiin",
        "missing": "; puuttuu: {names}",
        "unreachable": "{unreachable} tavoittamatta",
    },
    "sv": {
        "share": "{acknowledged_within}/{targeted} kvitterade i tid ({percent} %)",
        "coverage": "{reached}/{targeted} nåddes",
        "missing": "; saknas: {names}",
        "unreachable": "{unreachable} onåbara",
    },
    "en": {
        "share": "{acknowledged_within}/{targeted} acknowledged in time ({percent} %)",
        "coverage": "{reached}/{targeted} reached",
        "missing": "; missing: {names}",
        "unreachable": "{unreachable} unreachable",
    },
}


def objective_value(kind: str, value: Any, language: str) -> str:
    """The figure behind an objective in words (empty before there is one)."""
    if value is None:
        return ""
    words = _VALUES.get(language, _VALUES["fi"])
    if kind == "manual":
        return RATINGS.get(language, RATINGS["fi"])[str(value)]
    if kind == "ack_share_within":
        return words["share"].format(**{**value, "percent": format_number(value["percent"], language)})
    if kind == "max_unreachable":
        return words["unreachable"].format(**value)
    text = words["coverage"].format(**value)
    return text + (words["missing"].format(names=", ".join(value["missing"])) if value["missing"] else "")


KIND_NAMES = {
    "communication_test": {"fi": "viestiliikennekoe", "sv": "sambandsprov", "en": "communication test"},
    "management_group_test": {
        "fi": "johtoryhmien hälytyskoe",
        "sv": "larmprov för ledningsgrupperna",
        "en": "management-group alerting test",
    },
    "external_system_test": {
        "fi": "ulkoisen hälytysjärjestelmän testi",
        "sv": "test av ett externt larmsystem",
        "en": "external alerting system test",
    },
    "exercise": {"fi": "valmiusharjoitus", "sv": "beredskapsövning", "en": "readiness exercise"},
}
STATE_NAMES = {
    "planned": {"fi": "suunniteltu", "sv": "planerad", "en": "planned"},
    "running": {"fi": "käynnissä", "sv": "pågår", "en": "running"},
    "ended": {"fi": "päättynyt", "sv": "avslutad", "en": "ended"},
    "cancelled": {"fi": "peruttu", "sv": "inställd", "en": "cancelled"},
    "missed": {"fi": "jäi pitämättä", "sv": "hölls inte", "en": "missed"},
}
LABELS = {
    "fi": {
        "drill": "Harjoitus",
        "schedule": "aikataulu",
        "next": "seuraava",
        "started": "alkoi",
        "ends": "päättyy",
        "ended": "päättyi",
        "runs": "toteutukset",
        "alerts": "hälytykset",
        "not_sent": "ei lähetetty",
        "objective": "tavoite",
        "result": "tulos",
        "figure": "luku",
        "phase": "vaihe",
        "decision": "harjoituspäätös",
        "name": "nimi",
        "kind": "laji",
        "state": "tila",
    },
    "sv": {
        "drill": "Övning",
        "schedule": "schema",
        "next": "nästa",
        "started": "började",
        "ends": "slutar",
        "ended": "slutade",
        "runs": "genomföranden",
        "alerts": "larm",
        "not_sent": "inte skickat",
        "objective": "mål",
        "result": "resultat",
        "figure": "siffra",
        "phase": "fas",
        "decision": "övningsbeslut",
        "name": "namn",
        "kind": "typ",
        "state": "läge",
    },
    "en": {
        "drill": "Drill",
        "schedule": "schedule",
        "next": "next",
        "started": "started",
        "ends": "ends",
        "ended": "ended",
        "runs": "runs",
        "alerts": "alerts",
        "not_sent": "not sent",
        "objective": "objective",
        "result": "result",
        "figure": "figure",
        "phase": "phase",
        "decision": "exercise decision",
        "name": "name",
        "kind": "kind",
        "state": "state",
    },
}
