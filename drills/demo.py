"""A past drill for the demo (`alueturva demo`, `up --demo`): a management group alerting exercise held three weeks
ago, with deliveries, poll answers and acknowledgements spread over half an hour, so that its objectives, the report
and the web pages have something to show. Its own words are in Finnish, Swedish and English, so that its report is
wholly in the reader's language. SMS messages have their delivery receipts; email, as SMTP, has none. Every message
of it is an exercise; nothing is sent now.

Its participants' feedback is answered by about two thirds of those who acknowledged; its after-action report has
its words in the three languages and is approved (version 1), and two of the agreement's
measures are recorded by hand, so that the follow-up shows measured and recorded metrics side by side.

Loaded after the demo roster; loading it again changes nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select

from alerting import public as alerting
from alerting.models import Recipient
from alueturva.db import get_database, utcnow
from alueturva.i18n import HELSINKI
from contacts.models import Group, Person
from drills import feedback, flows, metrics, plans, service
from drills.models import Drill, DrillAlert, FeedbackAnswer, FeedbackRequest
from drills.report import approval
from drills.schemas import DrillCreate, MetricRecordIn, ReportApprove, ReportUpdate

DEMO_ACTOR = "demo"
DEMO_MINUTES = 45  # the drill ended (and its alert closed) this long after it started
DEMO_NAME = {
    "fi": "Johtoryhmien hälytysharjoitus (demo)",
    "sv": "Larmövning för ledningsgrupperna (demo)",
    "en": "Management group alerting exercise (demo)",
}
DEMO_OBJECTIVES = [
    {"kind": "ack_share_within", "percent": 80, "minutes": 15},
    {"kind": "every_organisation_within", "minutes": 30},
    {"kind": "every_area_within", "minutes": 30},
    {"kind": "max_unreachable", "count": 0},
    {
        "kind": "manual",
        "text": {
            "fi": "Johtoryhmät kokoontuivat etäyhteydellä 30 minuutin kuluessa",
            "sv": "Ledningsgrupperna samlades på distans inom 30 minuter",
            "en": "The management groups met remotely within 30 minutes",
        },
    },
]


DEMO_APPROVER = "Aino Esimerkki"  # the readiness manager who approves, as invented as the roster's people
DEMO_DISTRIBUTION = ["Alueturva", "Soite"]  # names the same in every language
DEMO_REPORT = {
    "summary": {
        "fi": "Kuntien johtoryhmät hälytettiin tekstiviestillä ja sähköpostilla. Suurin osa kuittasi 15 minuutissa; "
        "muutama numero oli vanhentunut, ja ne on korjattava rekisteriin.",
        "sv": "Kommunernas ledningsgrupper larmades med textmeddelande och e-post. De flesta kvitterade inom 15 "
        "minuter; några nummer var föråldrade och ska rättas i registret.",
        "en": "The municipal management groups were alerted by SMS and email. Most acknowledged within 15 minutes; "
        "a few numbers were out of date and must be corrected on the roster.",
    },
    "purpose": {
        "fi": "Testata yhteistyösopimuksen mukaisesti kuntien johtoryhmien hälyttäminen ja tavoitettavuus.",
        "sv": "Att enligt samarbetsavtalet testa larmningen och nåbarheten för kommunernas ledningsgrupper.",
        "en": "To test the alerting and reach of the municipal management groups, as the agreement asks.",
    },
    "conclusions": {
        "fi": "Hälytys tavoitti johtoryhmät; vastausaika riippuu siitä, onko numero ajan tasalla.",
        "sv": "Larmet nådde ledningsgrupperna; svarstiden beror på om numret är aktuellt.",
        "en": "The alert reached the management groups; the time to answer depends on the number being current.",
    },
    "recommendations": {
        "fi": "Kunnat tarkistavat johtoryhmiensä numerot neljännesvuosittain.",
        "sv": "Kommunerna kontrollerar ledningsgruppernas nummer varje kvartal.",
        "en": "The municipalities check their management groups' numbers every quarter.",
    },
}


def _held_three_weeks_ago(now: datetime) -> datetime:
    """09:00 Finnish time on a weekday three weeks back."""
    day = (now - timedelta(weeks=3)).astimezone(HELSINKI)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day.replace(hour=9, minute=0, second=0, microsecond=0)


def _plan(started: datetime) -> int:
    with get_database().session() as session:
        groups = list(session.scalars(select(Group.id).where(Group.key.like("johtoryhma_%")).order_by(Group.id)))
    request = DrillCreate.model_validate(
        {
            "name": DEMO_NAME,
            "kind": "management_group_test",
            "description": {
                "fi": "Kuntien johtoryhmien hälyttäminen yhteisellä järjestelmällä (kuvitteellinen demo).",
                "sv": "Larmning av kommunernas ledningsgrupper med det gemensamma systemet (fiktiv demo).",
                "en": "Alerting the municipal management groups with the common system (a fictional demo).",
            },
            "contact": {
                "fi": "Pelastuslaitoksen valmiuspäällikkö",
                "sv": "Räddningsverkets beredskapschef",
                "en": "The rescue department's head of preparedness",
            },
            "targets": {"groups": groups},
            "title": {
                "fi": "Johtoryhmien hälytysharjoitus",
                "sv": "Larmövning för ledningsgrupperna",
                "en": "Management group alerting exercise",
            },
            "message": {
                "fi": "Kokoontuminen Teams-kokoukseen klo 9.30.",
                "sv": "Samling till Teams-möte kl. 9.30.",
                "en": "Meeting on Teams at 9.30.",
            },
            "objectives": DEMO_OBJECTIVES,
        }
    )
    drill_id = plans.plan(request=request, actor=DEMO_ACTOR, now=started - timedelta(days=7)).id
    flows.start(drill_id=drill_id, actor=DEMO_ACTOR, now=started, dispatch=False)  # its alert is history, not sent
    return drill_id


def _settle(drill_id: int, started: datetime) -> None:
    """What happened: text messages delivered within a minute (one number refused), emails handed to the mail
    server (which reports no delivery), most people answering the poll within half an hour, a few never."""
    chance = random.Random(2025)
    with get_database().session() as session:
        alert_ids = service.measured_alert_ids(session, drill_id=drill_id)
        refused = None
        for delivery in alerting.past_deliveries(session, alert_ids=alert_ids):
            sent = started + timedelta(seconds=chance.uniform(1, 20))
            if refused is None and delivery.channel is alerting.Channel.sms:
                refused = delivery.recipient_id
                alerting.record_past_outcome(
                    session,
                    delivery_id=delivery.id,
                    sent_at=sent,
                    failed_at=sent + timedelta(seconds=30),
                    error_code="30003",
                    error_message="the provider reported the message undelivered",
                )
            elif delivery.channel is alerting.Channel.sms:
                alerting.record_past_outcome(
                    session, delivery_id=delivery.id, sent_at=sent, delivered_at=sent + timedelta(seconds=25)
                )
            else:  # handed to the mail server, which reports no delivery
                alerting.record_past_outcome(session, delivery_id=delivery.id, sent_at=sent)
        for recipient in alerting.past_recipients(session, alert_ids=alert_ids):
            if recipient.id == refused or chance.random() < 0.12:
                continue  # never answered
            minutes = chance.lognormvariate(1.6, 0.7)
            alerting.record_acknowledgement(
                session,
                alert_id=recipient.alert_id,
                recipient_id=recipient.id,
                late=minutes > DEMO_MINUTES,
                method=alerting.AckMethod.sms if chance.random() < 0.8 else alerting.AckMethod.link,
                actor=f"sms:person:{recipient.person_id}",
                response=1 if chance.random() < 0.85 else 2,
                now=started + timedelta(minutes=minutes),
            )


def load_demo_drill() -> str:
    """The demo's past drill (once)."""
    with get_database().session() as session:
        if session.scalar(select(Drill.id).where(Drill.name == DEMO_NAME["fi"], Drill.created_by == DEMO_ACTOR)):
            return "demo drill already loaded"
    started = _held_three_weeks_ago(utcnow())
    drill_id = _plan(started)
    _settle(drill_id, started)
    flows.end_by_hand(drill_id=drill_id, actor=DEMO_ACTOR, now=started + timedelta(minutes=DEMO_MINUTES))
    _answer_feedback(drill_id, ended=started + timedelta(minutes=DEMO_MINUTES))
    approval.update_report(drill_id=drill_id, payload=ReportUpdate.model_validate(DEMO_REPORT), actor=DEMO_ACTOR)
    approval.approve(
        drill_id=drill_id,
        payload=ReportApprove(marking="personal_data", distribution=DEMO_DISTRIBUTION),
        actor=DEMO_ACTOR,
        name=DEMO_APPROVER,
    )
    _record_metrics(started.astimezone(HELSINKI).year)
    return f"past drill {drill_id} loaded, its report approved"


DEMO_FREE_TEXTS = {  # each participant writes in their own language
    "fi": ["Viesti oli selkeä, mutta kokouslinkki puuttui.", "Varahenkilöiden numerot kannattaa tarkistaa."],
    "sv": ["Meddelandet var tydligt, men möteslänken saknades."],
    "en": ["The reminder came at the right time."],
}


def _answer_feedback(drill_id: int, *, ended: datetime) -> None:
    """The feedback of the past drill: a request sent to each person who acknowledged (the week to answer is over
    by now), and the answers of about two thirds of them, stored apart from who gave them."""
    chance = random.Random(drill_id + 20)
    with get_database().session() as session:
        people = session.execute(
            select(Person.id, Person.language)
            .join(Recipient, Recipient.person_id == Person.id)
            .join(DrillAlert, DrillAlert.alert_id == Recipient.alert_id)
            .where(DrillAlert.drill_id == drill_id, Recipient.acknowledged_at.is_not(None))
            .distinct()
        ).all()
        for person_id, language in people:
            answered = chance.random() < 0.67
            session.add(
                FeedbackRequest(
                    drill_id=drill_id, person_id=person_id, channel="sms", language=language, nonce="demo",
                    state="sent", attempts=1, segments=1, sent_at=ended, expires_at=ended + feedback.VALID_FOR,
                    answered=answered, created_at=ended,
                )
            )  # fmt: skip
            if answered:
                free = chance.choice([*DEMO_FREE_TEXTS.get(language, DEMO_FREE_TEXTS["fi"]), None, None])
                answers = [chance.choice([3, 4, 4, 5, 5]), chance.choice(["yes", "yes", "yes", "partly"]), free]
                session.add(FeedbackAnswer(drill_id=drill_id, language=language, answers=answers))


def _record_metrics(year: int) -> None:
    """Two of the agreement's measures recorded by hand, as a readiness manager would, for the drill's year."""
    for key, status, evidence, on in (
        ("preparedness_plan", "in_progress", "valmiussuunnitelma-luonnos-v3.docx", None),
        ("autumn_seminar", "met", "https://example.fi/alueturva/syysseminaari-ohjelma.pdf", date(year, 10, 2)),
    ):
        payload = MetricRecordIn(year=year, status=status, evidence=evidence, on=on)
        metrics.record(key=key, payload=payload, actor=DEMO_ACTOR, name=DEMO_APPROVER)
