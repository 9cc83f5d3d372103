"""The report a readiness manager can sign: narrative sections written per language, the course of events made from
what the system knows and then edited, approval freezing a version (figures and words) with its publicity marking
and distribution on every PDF page, a later change making version 2 while version 1 stays readable, and the
councils' redacted version holding no name, number or email, even in what people wrote."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from actioncards.flows import import_set
from alueturva.auth.models import Role
from alueturva.config import config_path
from alueturva.db import Database
from alueturva.queue import InProcessQueue
from contacts.demo import load_demo_roster
from loopback.twilio_server import FakeTwilio
from tests.conftest import auth
from tests.support.drills import act, age_drill, plan, reply, short_code
from tests.support.reports import ready_pdf
from tests.support.roster import Roster, make_roster, settled, wait_until

NAMES = ("Aino Aaltonen", "Bertil Backman", "Cecilia Carlsson", "Daniel Dahl")


@pytest.fixture
def roster(database: Database) -> Roster:
    return make_roster(database)


@pytest.fixture
def held(
    twilio_settings: FakeTwilio,
    client: TestClient,
    keys: dict[Role, str],
    roster: Roster,
    database: Database,
    queue: InProcessQueue,
) -> int:
    """A management group drill: Aino acknowledges after 2 minutes, Daniel (a deputy) after 5; an evaluator's note
    names Bertil."""
    drill = plan(
        client,
        keys,
        name="Hälytyskoe joulukuu",
        kind="management_group_test",
        targets={"groups": [roster.group_id]},
        channels=["sms"],
        title="Johtoryhmän hälytyskoe",
        message="Kokoontuminen klo 10.",
        description={"fi": "Myrsky katkaisee sähköt.", "sv": "En storm bryter strömmen."},
        objectives=[{"kind": "ack_share_within", "percent": 50, "minutes": 10}, {"kind": "manual", "text": "Kokous"}],
    )
    started = act(client, keys, f"{drill['id']}/start")
    (alert_id,) = started["alerts"]
    assert wait_until(lambda: settled(database, alert_id))
    code = short_code(database, alert_id)
    age_drill(database, drill["id"], minutes=2)
    reply(twilio_settings, client, roster.mobiles["aino"], f"1 {code}")
    age_drill(database, drill["id"], minutes=3)
    reply(twilio_settings, client, roster.mobiles["bertil"], f"1 {code}")
    act(client, keys, f"{drill['id']}/observations", text="Bertil Backman soitti numerosta 040 123 4567")
    act(client, keys, f"{drill['id']}/objectives/2/rating", rating="S", note="Aaltonen johti kokousta")
    act(client, keys, f"{drill['id']}/end")
    return int(drill["id"])


def _patch(client: TestClient, keys: dict[Role, str], drill_id: int, role: Role = Role.operator, **body: Any) -> Any:
    return client.patch(f"/api/v1/drills/{drill_id}/report", json=body, headers=auth(keys[role]))


def _approve(client: TestClient, keys: dict[Role, str], drill_id: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/drills/{drill_id}/report/approve", json=body or None, headers=auth(keys[Role.operator])
    )


def _get(client: TestClient, keys: dict[Role, str], drill_id: int, role: Role = Role.viewer, **query: Any) -> Any:
    url = f"/api/v1/drills/{drill_id}/report"
    response = ready_pdf(client, url, params=query, headers=auth(keys[role]))  # a PDF is built by a worker
    assert response.status_code == 200, response.text
    return response.json() if query.get("format", "json") == "json" else response


def _pdf_pages(response: Any) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(response.content)).pages]


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_written_approved_changed_and_each_version_readable(
    held: int, client: TestClient, keys: dict[Role, str]
) -> None:
    draft = _get(client, keys, held)
    assert draft["approval"] == {
        "state": "draft",
        "version": 1,
        "approved_by": None,
        "approved_at": None,
        "marking": None,
        "marking_text": None,
        "distribution": [],
    }
    assert draft["sections"]["scenario"] == {"fi": "Myrsky katkaisee sähköt.", "sv": "En storm bryter strömmen."}
    kinds = [event["kind"] for event in draft["sections"]["course_of_events"]]
    assert kinds[0] == "start" and kinds[-1] == "end" and "alert" in kinds and "observation" in kinds
    acknowledged = [e["text"] for e in draft["sections"]["course_of_events"] if e["kind"] == "acknowledged"]
    assert {
        "fi": "Kannus: ensimmäinen kuittaus; kuittasi 1/2.",
        "sv": "Kannus: första kvitteringen; 1/2 kvitterade.",
        "en": "Kannus: first acknowledgement; 1/2 acknowledged.",
    } in acknowledged
    assert not any("Aino" in text for event in acknowledged for text in event.values())

    # Written per language: Swedish added later keeps the Finnish; an empty version clears it.
    assert _patch(client, keys, held, Role.viewer, summary={"fi": "x"}).status_code == 403
    response = _patch(
        client,
        keys,
        held,
        summary={"fi": "Hälytys toimi.", "en": "Poistuva"},
        purpose={"fi": "Testata johtoryhmän tavoitettavuus."},
        conclusions={"fi": "Kuittaukset tulivat ajoissa."},
        recommendations={"fi": "Jatketaan."},
    )
    assert response.status_code == 200, response.text
    response = _patch(client, keys, held, summary={"sv": "Larmet fungerade.", "en": ""})
    assert response.json()["sections"]["summary"] == {"fi": "Hälytys toimi.", "sv": "Larmet fungerade."}

    # Bad input changes nothing.
    assert _patch(client, keys, held, marking="secret").status_code == 422
    assert _patch(client, keys, held).status_code == 422
    assert _patch(client, keys, held, summary={"fi": "a\x00b"}).status_code == 422
    assert _approve(client, keys, held).status_code == 422  # no marking chosen yet
    assert _get(client, keys, held)["sections"]["summary"]["fi"] == "Hälytys toimi."

    # The course of events, edited.
    course = _get(client, keys, held)["sections"]["course_of_events"]
    edited = [
        *course,
        {
            "at": "2026-12-04T10:15:00",
            "kind": "note",
            "text": {"fi": "Johtoryhmä kokoontui.", "sv": "Ledningsgruppen samlades."},
        },
    ]
    assert _patch(client, keys, held, course_of_events=edited).status_code == 200

    response = _approve(
        client, keys, held, marking="personal_data", distribution=["Kokkolan kaupunginhallitus", "Soite"]
    )
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["version"]) == ("approved", 1)
    assert _approve(client, keys, held).status_code == 409  # nothing changed since version 1

    first = _get(client, keys, held, language="sv")
    assert first["approval"]["state"] == "approved" and first["approval"]["marking_text"] == (
        "Inte offentlig, innehåller personuppgifter"
    )
    assert first["sections"]["course_edited"] is True
    assert first["sections"]["course_of_events"][-1]["text"]["sv"] == "Ledningsgruppen samlades."

    # Version 2: a later change; version 1 stays as it was, in every format.
    assert _patch(client, keys, held, summary={"fi": "Hälytys toimi hyvin."}).status_code == 200
    assert _get(client, keys, held)["approval"] == {
        **_get(client, keys, held)["approval"],
        "state": "draft",
        "version": 2,
    }
    assert _approve(client, keys, held, marking="public").status_code == 200
    second, old = _get(client, keys, held), _get(client, keys, held, version=1)
    assert (second["approval"]["version"], second["sections"]["summary"]["fi"]) == (2, "Hälytys toimi hyvin.")
    assert (old["approval"]["version"], old["sections"]["summary"]["fi"]) == (1, "Hälytys toimi.")
    assert old["counts"] == second["counts"] and old["generated_at"] != second["generated_at"]
    assert (
        client.get(f"/api/v1/drills/{held}/report", params={"version": 3}, headers=auth(keys[Role.viewer])).status_code
        == 404
    )

    html = _plain(_get(client, keys, held, format="html", version=1).text)
    headings = [
        "Tiivistelmä",
        "Tarkoitus ja laajuus",
        "Skenaario",
        "Tapahtumien kulku",
        "Analyysi tavoitteittain",
        "Johtopäätökset ja suositukset",
        "Kehittämissuunnitelma",
    ]
    positions = [html.index(heading) for heading in headings]
    assert positions == sorted(positions), headings
    assert "Hälytys toimi." in html and "Johtoryhmä kokoontui." in html and "Aaltonen johti kokousta" in html
    csv = _get(client, keys, held, format="csv", version=1).text
    assert "Aino" not in csv and "kannus" in csv.lower()

    pages = _pdf_pages(_get(client, keys, held, format="pdf", version=1, language="sv"))
    assert len(pages) > 1
    for page in pages:
        assert "Inte offentlig, innehåller personuppgifter" in page
        assert "Distribution: Kokkolan kaupunginhallitus, Soite" in page
        assert "Version 1" in page
    assert "Larmet fungerade." in " ".join(pages) and "Händelseförlopp" in " ".join(pages)
    pages = _pdf_pages(_get(client, keys, held, format="pdf"))
    assert all("Julkinen" in page and "Versio 2" in page for page in pages)


def test_the_redacted_report_holds_no_name_number_or_email(
    held: int, client: TestClient, keys: dict[Role, str], roster: Roster
) -> None:
    _patch(
        client,
        keys,
        held,
        summary={"fi": "Bertil Backman (bertil@example.fi, +358 40 111 0002) kuittasi."},
        conclusions={"fi": "Aaltosen varahenkilö Daniel vastasi."},
    )
    assert _approve(client, keys, held, marking="public", distribution=["Valtuustot"]).status_code == 200
    forbidden = [part for name in NAMES for part in name.split()]
    forbidden += ["@example.fi", "0002", "4567", "1110001", "Aaltosen"]
    for language in ("fi", "sv", "en"):
        for version in (None, 1):
            query = {"redact": True, "language": language} | ({"version": version} if version else {})
            texts = [
                str(_get(client, keys, held, Role.operator, **query)),
                _get(client, keys, held, Role.operator, format="html", **query).text,
            ]
            if language == "fi":
                texts.append(" ".join(_pdf_pages(_get(client, keys, held, Role.operator, format="pdf", **query))))
            for text in texts:
                found = [word for word in forbidden if word in text]
                assert not found, (language, version, found)
    redacted = _get(client, keys, held, redact=True)
    assert "[poistettu]" in redacted["sections"]["summary"]["fi"] and redacted["approval"]["approved_by"] is None
    full = _get(client, keys, held, Role.operator)
    assert "Bertil Backman" in full["sections"]["summary"]["fi"]


def test_the_course_of_events_shows_the_action_cards_used_and_their_tasks_done(
    client: TestClient, keys: dict[Role, str], database: Database, queue: InProcessQueue
) -> None:
    """A card activated in a drill is a moment of its course of events, with how many of its tasks were done."""
    load_demo_roster()
    import_set(data=config_path("action_cards/keski-pohjanmaa.yaml").read_bytes(), source="starter", actor="test")
    drill = plan(
        client,
        keys,
        name="Vesihuoltoharjoitus",
        kind="exercise",
        description="Vesi loppuu.",
        targets={"areas": ["Perhonjokilaakso"]},  # Halsua is in it
    )
    act(client, keys, f"{drill['id']}/start")
    body = {"card": "vesihuolto-tehostettu", "area": "halsua", "idempotency_key": "vesi-1", "drill_id": drill["id"]}
    made = client.post("/api/v1/activations", json=body, headers=auth(keys[Role.operator]))
    assert made.status_code == 201, made.text
    tasks = made.json()["tasks"]
    marked = client.post(
        f"/api/v1/tasks/{tasks[0]['id']}/done", json={"reason": "Harjoitus"}, headers=auth(keys[Role.operator])
    )
    assert marked.status_code == 200, marked.text
    act(client, keys, f"{drill['id']}/end")

    course = _get(client, keys, drill["id"])["sections"]["course_of_events"]
    assert [event["kind"] for event in course] == ["start", "card", "end"]
    card = course[1]["text"]
    assert card["fi"].startswith("Toimintaohjekortti otettiin käyttöön, Halsua: ")
    assert card["fi"].endswith(f"tehtävistä tehty 1/{len(tasks)}.")
    assert card["sv"].endswith(f"1/{len(tasks)} uppgifter utförda.") and ", Halsua: " in card["sv"]
