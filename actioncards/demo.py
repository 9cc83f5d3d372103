"""The demo's action cards: the region's starter set, and the storm card in use in Perhonjokilaakso since the demo
picture's decision, its tasks partly done (one that cannot be done, one overdue). History: nobody is messaged."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from actioncards import activation, flows, service
from actioncards.models import Activation, TaskState
from alueturva.config import config_path
from alueturva.db import get_database, utcnow
from situation.areas import load_area_tree

DEMO_ACTOR = "cli:Päivystävä palomestari"
DEMO_KEY = "demo-myrsky-perhonjokilaakso"
ACTIVATED_AGO = timedelta(minutes=40)
STARTER = config_path("action_cards/keski-pohjanmaa.yaml")


def load_demo_cards(*, now: datetime | None = None) -> str:
    """Once: the starter set and the demo's card in use."""
    now = now or utcnow()
    imported = flows.import_set(data=STARTER.read_bytes(), source=STARTER.name, actor=DEMO_ACTOR)
    with get_database().session() as session:
        if session.scalar(select(Activation.id).where(Activation.key == DEMO_KEY)) is not None:
            return "demo action cards already loaded"
        card = service.get_card(session, key="myrsky-tehostettu")
        started = now - ACTIVATED_AGO
        made = activation.activate(
            session, card=card, tree=load_area_tree(session), area="Perhonjokilaakso", key=DEMO_KEY,
            actor=DEMO_ACTOR, now=started, notify=False,
        )  # fmt: skip
        _progress(made, started, now)
        done = sum(task.state is TaskState.done for task in made.tasks)
        return f"{len(imported.created)} action cards imported; 1 in use, {done}/{len(made.tasks)} tasks done"


def _progress(made: Activation, started: datetime, now: datetime) -> None:
    """The first tasks done at a steady pace, one that cannot be done, one overdue; the rest still open."""
    comments = {
        1: "Varavoima käynnissä, polttoainetta 3 vrk. / Reservkraften i gång, bränsle för 3 dygn.",
        3: "Tilannekuva jaettu klo 9.30. / Lägesbilden delad kl. 9.30.",
    }
    firsts = [task for task in made.tasks if task.position in (1, 3) and task.person_id is not None]
    late = [task for task in firsts if task.position == 1][-1]  # still open, overdue
    late.next_step, late.next_step_at, late.overdue_at = None, None, late.due_at
    for number, task in enumerate(task for task in firsts if task is not late):
        task.state = TaskState.done
        task.done_at = started + timedelta(minutes=8 + 5 * number)
        task.comment = comments.get(task.position)
        task.marked_by = f"link:person:{task.person_id}"
        task.next_step, task.next_step_at = None, None
    cannot = next((task for task in made.tasks if task.position == 2 and task.person_id is not None), None)
    if cannot is not None:
        cannot.state, cannot.done_at, cannot.marked_by = TaskState.cannot, now - timedelta(minutes=10), DEMO_ACTOR
        cannot.comment = "Sairaana, varahenkilö hoitaa. / Sjuk, ersättaren sköter det."
        cannot.next_step, cannot.next_step_at = None, None
