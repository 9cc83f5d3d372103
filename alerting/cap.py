"""The alert as a CAP 1.2 message (OASIS Common Alerting Protocol): one ``info`` per language the alert was
written in, each with that language's own text."""

from __future__ import annotations

from lxml import etree

from alerting.messages import MessageContent, alert_content
from alerting.models import Alert, AlertStatus
from alerting.texts import EXERCISE_WORD
from alueturva.cap import CAP_NAMESPACE, cap_time
from alueturva.settings import get_settings
from contacts.catalogue import area_names, region_names

CAP_LANGUAGES = {"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}
EVENT = {"fi": "Viranomaishälytys", "sv": "Myndighetslarm", "en": "Authority alert"}
SENDER_NAME = {
    "fi": "Keski-Pohjanmaan Alueturva",
    "sv": "Alueturva i Mellersta Österbotten",
    "en": "Alueturva, Central Ostrobothnia",
}
INSTRUCTION = {
    "fi": "Kuittaa vastaanotetuksi vastaamalla tekstiviestiin OK {code} tai sähköpostin linkistä.",
    "sv": "Kvittera genom att svara OK {code} på textmeddelandet eller via länken i e-posten.",
    "en": "Acknowledge by replying OK {code} to the text message or through the link in the email.",
}


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _sender() -> str:
    return get_settings().email_from


def _identifier(alert: Alert) -> str:
    host = get_settings().public_base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "alueturva"
    return f"urn:alueturva:{host}:alert:{alert.id}"


def _info(root: etree._Element, alert: Alert, content: MessageContent, language: str, areas: list[str]) -> None:
    exercise = f"{EXERCISE_WORD[language]} – " if alert.exercise else ""
    info = _sub(root, "info")
    _sub(info, "language", CAP_LANGUAGES[language])
    _sub(info, "category", "Safety")
    _sub(info, "event", exercise + EVENT[language])
    _sub(info, "responseType", "Prepare")
    _sub(info, "urgency", "Immediate")
    _sub(info, "severity", "Unknown")
    _sub(info, "certainty", "Unknown")
    _sub(info, "effective", cap_time(alert.created_at))
    _sub(info, "expires", cap_time(alert.closes_at))
    _sub(info, "senderName", SENDER_NAME[language])
    _sub(info, "headline", exercise + content.title[language])
    _sub(info, "description", content.message[language])
    _sub(info, "instruction", INSTRUCTION[language].format(code=alert.short_code))
    for number, option in enumerate(content.options, 1):
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", f"responseOption{number}")
        _sub(parameter, "value", option[language])
    area = _sub(info, "area")
    known = area_names()
    names = [known[name][language] for name in areas if name in known] or [region_names()[language]]
    _sub(area, "areaDesc", ", ".join(names))


def alert_as_cap(alert: Alert) -> bytes:
    """CAP 1.2 XML: ``status`` Exercise for drills, ``msgType`` Cancel (referring to the alert) once cancelled."""
    root = etree.Element(f"{{{CAP_NAMESPACE}}}alert", nsmap={None: CAP_NAMESPACE})
    identifier, sent = _identifier(alert), cap_time(alert.created_at)
    cancelled = alert.status is AlertStatus.cancelled and alert.cancelled_at is not None
    _sub(root, "identifier", identifier + (":cancel" if cancelled else ""))
    _sub(root, "sender", _sender())
    _sub(root, "sent", cap_time(alert.cancelled_at) if cancelled and alert.cancelled_at else sent)
    _sub(root, "status", "Exercise" if alert.exercise else "Actual")
    _sub(root, "msgType", "Cancel" if cancelled else "Alert")
    _sub(root, "source", "Alueturva")
    _sub(root, "scope", "Restricted")
    _sub(root, "restriction", "Keski-Pohjanmaan varautumisen yhteyshenkilöt / beredskapskontakter / contacts")
    if alert.exercise:
        _sub(root, "note", " / ".join(EXERCISE_WORD.values()))
    if cancelled:
        _sub(root, "references", f"{_sender()},{identifier},{sent}")
    areas = [str(name) for name in alert.targets.get("areas", [])]
    content = alert_content(alert)
    for language in content.languages:
        _info(root, alert, content, language, areas)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
