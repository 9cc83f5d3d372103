"""The application's wiring: which tables, routers, periodic tasks and commands exist, and the cross-domain
reactions.

Domains never import each other sideways; where one domain's event should start another domain's work, the
connection is made here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter
    from sqlalchemy import MetaData
    from sqlalchemy.orm import Session

    from alueturva.migrate import Migrated
    from alueturva.scheduler import PeriodicTask

# Imported for their tables (by name: an import kept only for its side effect is easy to lose in a clean-up).
MODEL_MODULES = (
    "alueturva.auth.models",
    "alueturva.audit.models",
    "contacts.models",
    "situation.models",
    "alerting.models",
    "drills.models",
    "actioncards.models",
)


def metadata() -> MetaData:
    """Every domain's tables (migrations compare them with the database; tests truncate them)."""
    from alueturva.db import Base

    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata


def routers() -> list[APIRouter]:
    from actioncards.api import activations_router
    from actioncards.api import router as action_cards_router
    from actioncards.pages import router as task_pages_router
    from alerting.ack_pages import router as ack_pages_router
    from alerting.api import outbox_router
    from alerting.api import router as alerting_router
    from alerting.webhooks import routers as webhook_routers
    from alueturva.app.personal.api import router as personal_router
    from alueturva.audit.api import router as audit_router
    from alueturva.auth.api import router as auth_router
    from contacts.api import router as contacts_router
    from drills.api import followup_router
    from drills.api import items_router as improvement_items_router
    from drills.api import router as drills_router
    from drills.feedback_page import router as feedback_page_router
    from situation.api import router as situation_router

    # The routes an alert's answers reach come first: every request walks the route list in order until one matches,
    # and a provider's webhook or an acknowledgement link came after some 90 routes (half the CPU of an SMS
    # acknowledgement, bench.acks --profile).
    return [
        *webhook_routers(),
        ack_pages_router,
        auth_router,
        audit_router,
        contacts_router,
        personal_router,
        situation_router,
        alerting_router,
        outbox_router,
        drills_router,
        improvement_items_router,
        followup_router,
        action_cards_router,
        activations_router,
        feedback_page_router,
        task_pages_router,
    ]


DEFAULT_BODY_LIMIT = 1024 * 1024  # JSON bodies, forms


def body_limits() -> list[tuple[str, int]]:
    """Request body caps per route (path prefix, bytes), in one place; everything else: ``DEFAULT_BODY_LIMIT``.
    Enforced while the body streams in (``alueturva.bodylimits``)."""
    from situation.cap import MAX_CAP_BYTES

    return [
        ("/api/v1/rosters/import", 5 * 1024 * 1024),  # a roster CSV
        ("/rosters/import", 5 * 1024 * 1024),  # the same, uploaded in the web console
        ("/api/v1/observations/cap", MAX_CAP_BYTES),  # a CAP 1.2 file
        ("/api/v1/drills/import", 21 * 1024 * 1024),  # an exercise log (20 MB) and its mapping, as a form
        ("/webhooks/", 64 * 1024),  # a provider's form post (an SMS is at most 1,600 characters)
        ("/ack/", 4 * 1024),  # the link page's form: one answer
        ("/feedback/", 16 * 1024),  # a participant's feedback form: 3–5 answers, one free text
        ("/tasks/", 8 * 1024),  # a task link page's form: one mark and its comment
    ]


def periodic_tasks(*, demo: bool = False) -> list[PeriodicTask]:
    """The scheduler's tasks; ``demo`` (`up --demo`) adds the feed that keeps the demo's picture alive."""
    from actioncards.timers import tick as action_cards_tick
    from alerting.console_receipts import deliver_due_receipts
    from alerting.sweeper import sweep as alerting_sweep
    from alueturva.personal.retention import retention_job
    from alueturva.scheduler import PeriodicTask
    from alueturva.settings import get_settings
    from drills.schedule import tick as drills_tick
    from situation.demo import feed_demo_picture
    from situation.flows import record_recommendations_job
    from situation.reactions import dispatch_reactions_job

    settings = get_settings()
    return [
        PeriodicTask("alerting.sweep", alerting_sweep, settings.alert_sweep_interval_seconds),
        PeriodicTask("drills.tick", drills_tick, settings.drill_tick_seconds),
        PeriodicTask("actioncards.tick", action_cards_tick, settings.alert_sweep_interval_seconds),
        PeriodicTask("situation.dispatch_reactions", dispatch_reactions_job, 60),
        PeriodicTask("situation.record_recommendations", record_recommendations_job, 60),
        PeriodicTask("personal.retention", retention_job, 24 * 3600),  # daily, in small batches
        *([PeriodicTask("situation.demo_feed", feed_demo_picture, 60)] if demo else []),
        *(
            [PeriodicTask("alerting.console_receipts", deliver_due_receipts, settings.alert_sweep_interval_seconds)]
            if settings.sms_backend == "console"
            else []
        ),
    ]


def connect_domains() -> None:
    """Cross-domain connections: a readiness decision alerts the groups its rule names (idempotent), or in a drill the
    drill's targets; a raise activates the matching action cards, a lowering closes them; an SMS reply "T1 OK" marks
    a task; the picture knows drills through its exercises seam; personal-data care knows every domain's holders."""
    from actioncards.activation import on_readiness_decision
    from actioncards.replies import answer_reply
    from alerting.public import register_reply_handler
    from alueturva.app.personal import register_holders
    from alueturva.app.reactions import alert_groups_on_decision
    from drills.service import exercise_of
    from situation import exercises, reactions

    reactions.register(alert_groups_on_decision)
    reactions.register(on_readiness_decision)
    register_reply_handler(answer_reply)
    exercises.register(exercise_of)
    register_holders()


def seed_reference_data(session: Session) -> None:
    """Reference data every installation starts with (idempotent; run by `db upgrade` and `up`)."""
    from contacts.seed import seed_reference_data as seed_contacts

    seed_contacts(session)


def prepare_database(url: str) -> Migrated:
    """Migrate, then seed the reference data: what `alueturva db upgrade` does. Returns what the migration did."""
    from alueturva.db import Database
    from alueturva.migrate import upgrade

    migrated = upgrade(url)
    database = Database(url)
    try:
        with database.session() as session:
            seed_reference_data(session)
    finally:
        database.dispose()
    return migrated


def cli_apps() -> list[tuple[str, typer.Typer]]:
    """Each domain's command group, as `alueturva <name> …` (their modules import only typer at the top, so that
    `--help` answers at once)."""
    from actioncards.cli import cards_app
    from alerting.cli import alert_app
    from alerting.console_cli import call_app, outbox_app, sms_app
    from alueturva.app.personal.cli import retention_app
    from contacts.cli import people_app, roster_app
    from drills.cli import drill_app
    from drills.report_cli import followup_app
    from situation.cli import situation_app

    return [
        ("roster", roster_app),
        ("people", people_app),
        ("situation", situation_app),
        ("alert", alert_app),
        ("outbox", outbox_app),
        ("sms", sms_app),
        ("call", call_app),
        ("drill", drill_app),
        ("followup", followup_app),
        ("cards", cards_app),
        ("retention", retention_app),
    ]


def validate_configuration() -> None:
    """Load every configuration file and render the message templates once; a broken file raises ``ConfigError``
    naming the file, line and key."""
    from alerting.messages import check_templates
    from alueturva.personal.retention import load_personal_data_config
    from contacts import catalogue
    from situation.config import load_readiness_config

    catalogue.organisations()
    catalogue.catalogue()
    load_readiness_config()
    load_personal_data_config()
    check_templates()
