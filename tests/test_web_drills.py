"""The drills pages of the web console over HTTP: planning through the form with the API's validation (a refused
plan says at each field what is wrong, in the page's language, and stores nothing), running and evaluating a drill
on its page through the same flows as the API (audited with the signed-in person), its report as HTML, PDF and CSV
with the API's role rules, a viewer who reads but may not act, and the situation page keeping a running drill's
exercise levels apart from the real ones."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from alerting.models import Alert
from alueturva.app.web import drill_report
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database
from contacts.models import Person
from drills import flows, plans
from drills.models import Drill, DrillFinding, DrillObservation, DrillState, ImprovementItem, ReportFile
from drills.report.approval import report_document
from drills.schemas import DrillCreate
from tests.conftest import auth
from tests.support.reports import ready_pdf
from tests.support.roster import Roster, make_roster
from tests.support.web import sign_in


@pytest.fixture
def roster(database: Database) -> Roster:
    """Aino and Daniel (Kannus), Bertil (Kokkola, reads Swedish), Cecilia (Kaustinen, email only)."""
    return make_roster(database)


Calls = list[dict[str, Any]]


@pytest.fixture
def report_calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """The arguments each report page built its report with (the report's HTML shows no contact details, its JSON
    does: what a page asks for is what counts)."""
    calls: Calls = []

    def spy(session: Any, **arguments: Any) -> dict[str, Any]:
        calls.append(arguments)
        return report_document(session, **arguments)

    monkeypatch.setattr(drill_report, "report_document", spy)
    return calls


def _plan_form(token: str, group_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "csrf_token": token,
        "name": "Kuukausittainen viestiliikennekoe",
        "kind": "communication_test",
        "groups": str(group_id),
        "title_fi": "Viestiliikennekoe",
        "message_fi": "Kuittaa tämä viesti, kiitos.",
        "channels": "sms",
        "objectives": ["ack_share_within"],
        "ack_percent": "75",
        "ack_minutes": "15",
        "manual_objectives": "Päivystäjä soitti tavoittamattomille",
        "schedule": "manual",
        **fields,
    }


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert match, f"no problem shown at {field}"
    return match.group(1)


def _drills(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(Drill.id))) or 0


def _planned(client: TestClient, token: str, roster: Roster, **fields: Any) -> int:
    answer = client.post("/drills/new", data=_plan_form(token, roster.group_id, **fields), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return int(answer.headers["location"].rsplit("/", 1)[1])


def _started(database: Database, roster: Roster, *, kind: str = "communication_test", name: str = "Koe") -> int:
    """A drill planned and started as the API would, its alert made."""
    texts = {"title": "Koe", "message": "Kuittaa."} if kind != "exercise" else {}
    request = DrillCreate.model_validate(
        {"name": name, "kind": kind, "targets": {"groups": [roster.group_id]}, "channels": ["sms"], **texts}
    )
    drill_id = plans.plan(request=request, actor="test").id
    flows.start(drill_id=drill_id, actor="test")
    return drill_id


def test_an_operator_plans_a_drill_with_the_form(
    client: TestClient, database: Database, accounts: dict[Role, int], roster: Roster
) -> None:
    token = sign_in(client, Role.operator)
    form = client.get("/drills/new")
    assert form.status_code == 200 and "HARJOITUS" in form.text and 'name="kind" value="exercise"' in form.text
    bilingual = {
        "title_sv": "Sambandsprov",
        "message_sv": "Kvittera meddelandet, tack.",
        "response_options_fi": "Tulen\nEn pääse",
        "response_options_sv": "Jag kommer\nJag kan inte",
        "objectives": ["ack_share_within", "every_area_within"],
        "ack_percent": "87,5",  # a Finnish decimal comma
        "area_minutes": "30",
        "schedule": "at",
        "start_at": "2030-12-02T09:00",
    }
    once = _planned(client, token, roster, **bilingual)
    recurring = _planned(client, token, roster, name="Toistuva koe", schedule="cron", cron="0 9 1 * *")
    actor = f"web:user:{accounts[Role.operator]}"
    with database.session() as session:
        drill = session.get(Drill, once)
        assert drill is not None and drill.state is DrillState.planned and drill.created_by == actor
        assert drill.targets["groups"] == [roster.group_id] and drill.channels == ["sms"]
        assert drill.title == {"fi": "Viestiliikennekoe", "sv": "Sambandsprov"}
        assert drill.response_options == [{"fi": "Tulen", "sv": "Jag kommer"}, {"fi": "En pääse", "sv": "Jag kan inte"}]
        assert [(o.kind, o.params) for o in drill.objectives] == [
            ("ack_share_within", {"percent": 87.5, "minutes": 15.0}),
            ("every_area_within", {"minutes": 30.0}),
            ("manual", {"text": {"fi": "Päivystäjä soitti tavoittamattomille"}}),
        ]
        assert drill.start_at == datetime(2030, 12, 2, 7, 0, tzinfo=UTC)  # 09:00 Finnish time
        repeating = session.get(Drill, recurring)
        assert repeating is not None and repeating.cron == "0 9 1 * *" and repeating.start_at is None
        audit = session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "drill.plan")).all()
        assert set(audit) == {actor}
    page = client.get(f"/drills/{once}")
    assert "kerran 2.12.2030 klo 9.00" in page.text and "HARJOITUS" in page.text
    assert "Vähintään 87,5\xa0% hälytetyistä kuittaa 15 minuutin kuluessa" in page.text
    listing = client.get("/drills").text
    assert "Kuukausittainen viestiliikennekoe" in listing and "2.12.2030 klo 9.00" in listing
    assert "Toistuva koe" in listing and "suunniteltu" in listing


def test_a_refused_plan_says_at_each_field_what_is_wrong_and_stores_nothing(
    client: TestClient, database: Database, accounts: dict[Role, int], roster: Roster
) -> None:
    token = sign_in(client, Role.operator)
    wrong = {
        "csrf_token": token,
        "kind": "management_group_test",
        "title_sv": "Larmprov",
        "objectives": "ack_share_within",
        "ack_percent": "0",
        "ack_minutes": "viisitoista",
    }
    answer = client.post("/drills/new", data=wrong)
    assert answer.status_code == 422 and "Tarkista lomake" in answer.text
    assert _field_error(answer.text, "name") == "Anna harjoitukselle nimi."
    assert _field_error(answer.text, "targets") == "Valitse vähintään yksi vastaanottaja."
    assert _field_error(answer.text, "title_fi") == "Suomenkielinen otsikko puuttuu."
    assert _field_error(answer.text, "message_fi") == "Suomenkielinen viesti puuttuu."
    assert _field_error(answer.text, "title_sv") == "Ruotsinkielisestä versiosta puuttuu otsikko tai viesti."
    assert _field_error(answer.text, "ack_percent") == "Arvon on oltava suurempi kuin 0."
    assert _field_error(answer.text, "ack_minutes") == "Kirjoita luku."
    assert 'value="viisitoista"' in answer.text and 'aria-invalid="true"' in answer.text  # what was written stays

    refused_by_the_plan = [
        ({"schedule": "at", "start_at": "2020-01-02T09:00"}, "start_at", "Alkamisaika on jo mennyt"),
        ({"schedule": "at", "start_at": "2030-03-31T03:30"}, "start_at", "Tätä kellonaikaa ei ole Suomen aikaa"),
        ({"schedule": "cron", "cron": "61 9 * * *"}, "cron", "Cron-lauseke ei kelpaa"),
        ({"groups": "", "people": str(roster.people["aino"] + 999)}, "targets", "Valinnoilla ei tavoiteta"),
    ]
    for fields, field, text in refused_by_the_plan:
        answer = client.post("/drills/new", data=_plan_form(token, roster.group_id, **fields))
        assert answer.status_code == 422, (field, answer.text[-500:])
        assert _field_error(answer.text, field).startswith(text), field

    client.get("/language/sv", params={"next": "/drills/new"})
    swedish = client.post("/drills/new", data={**wrong, "ack_minutes": "15"})
    assert '<html lang="sv">' in swedish.text and _field_error(swedish.text, "name") == "Ge övningen ett namn."
    assert _field_error(swedish.text, "ack_percent") == "Värdet ska vara större än 0."
    assert _drills(database) == 0


def test_a_drill_is_started_watched_evaluated_and_reported_on_its_page(
    client: TestClient, database: Database, accounts: dict[Role, int], roster: Roster, report_calls: Calls
) -> None:
    token = sign_in(client, Role.operator)
    drill_id = _planned(client, token, roster, contact="Valmiuspäällikkö")
    confirm = client.get(f"/drills/{drill_id}/start")
    assert "HARJOITUS" in confirm.text and "Harjoitushälytys lähtee nyt 4 vastaanottajalle" in confirm.text
    started = client.post(f"/drills/{drill_id}/start", data={"csrf_token": token}, follow_redirects=False)
    assert started.status_code == 303
    again = client.post(f"/drills/{drill_id}/start", data={"csrf_token": token})
    assert again.status_code == 409 and "nykyisessä tilassa (käynnissä)" in again.text
    assert "/ 4 kuittasi" in client.get(f"/drills/{drill_id}/live").text

    def post(path: str, **form: str) -> Any:
        return client.post(f"/drills/{drill_id}/{path}", data={"csrf_token": token, **form}, follow_redirects=False)

    assert post("observations", text=" ").status_code == 422
    assert post("observations", text="Kannus kuittasi ensimmäisenä").status_code == 303
    assert post("findings", kind="strength", text="Viesti tavoitti kaikki kunnat").status_code == 303
    improvement = {"kind": "area_for_improvement", "text": "Kaustinen ei kuitannut", "objective": "1"}
    assert post("findings", **improvement).status_code == 303
    item = {"text": "Kaustisen numero puuttuu", "action": "Lisää numero", "due": "2027-01-31"}
    assert post("improvement-items", organisation_id=str(roster.organisations["kaustinen"]), **item).status_code == 303
    with database.session() as session:
        item_id = session.scalars(select(ImprovementItem.id)).one()
    assert post(f"improvement-items/{item_id}", status="in_progress", note="Pyydetty").status_code == 303
    assert post("end").status_code == 303
    assert post("objectives/2/rating", rating="S", note="Kolme neljästä soitettiin").status_code == 303

    page = client.get(f"/drills/{drill_id}").text
    shown = ("päättynyt", "Kannus kuittasi ensimmäisenä", "Viesti tavoitti kaikki kunnat", "työn alla", "31.1.2027")
    assert [text for text in shown if text not in page] == []
    assert "suoritettiin, joitakin haasteita" in page  # the rating, in the page's language
    actor = f"web:user:{accounts[Role.operator]}"
    with database.session() as session:
        drill = session.get(Drill, drill_id)
        assert drill is not None and drill.state is DrillState.ended and drill.started_by == actor
        assert all(alert.exercise for alert in session.scalars(select(Alert)))
        observation = session.scalars(select(DrillObservation)).one()
        assert observation.author == "Operator Person" and observation.recorded_by == actor
        assert session.scalar(select(func.count(DrillFinding.id))) == 2
        audited = select(AuditEvent).where(AuditEvent.entity_type.in_(["drill", "improvement_item"]))
        actions = {event.action: event.actor for event in session.scalars(audited)}
    assert set(actions) >= {"drill.plan", "drill.start", "drill.observe", "drill.finding", "drill.end", "drill.rate"}
    assert set(actions) >= {"improvement_item.create", "improvement_item.update"} and set(actions.values()) == {actor}

    report = client.get(f"/drills/{drill_id}/report.html")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "script-src" not in report.headers["content-security-policy"]  # the report runs no script
    assert "Kuukausittainen viestiliikennekoe" in report.text and "Aino Aaltonen" in report.text
    assert "Kaustisen numero puuttuu" in report.text
    redacted = client.get(f"/drills/{drill_id}/report.html", params={"redact": "true", "language": "sv"})
    assert '<html lang="sv">' in redacted.text and "Aino Aaltonen" not in redacted.text
    pdf = ready_pdf(client, f"/drills/{drill_id}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    csv = client.get(f"/drills/{drill_id}/report.csv", params={"table": "organisations"})
    assert csv.headers["content-disposition"].startswith("attachment") and "Kannus" in csv.text
    assert "Aino" not in client.get(f"/drills/{drill_id}/report.csv").text  # always redacted
    assert [(call["redact"], call["contact_details"]) for call in report_calls] == [
        (False, True),  # an operator's report has the numbers to phone
        (True, True),
        (True, True),
        (True, True),
    ]
    with database.session() as session:  # the PDF, built by a worker, is an operator's too
        assert session.scalars(select(ReportFile.variant)).all() == ["fi:full"]


def test_a_viewer_reads_drills_but_may_not_act_and_sees_no_contact_details(
    client: TestClient, database: Database, accounts: dict[Role, int], roster: Roster, report_calls: Calls
) -> None:
    drill_id = _started(database, roster)
    token = sign_in(client, Role.viewer)
    assert 'href="/drills/new"' not in client.get("/drills").text
    page = client.get(f"/drills/{drill_id}").text
    assert "HARJOITUS" in page and not re.search(r'<form method="post" action="/drills/', page)
    actions = ("start", "end", "cancel", "observations", "findings", "improvement-items", "objectives/1/rating")
    for action in ("new", *(f"{drill_id}/{path}" for path in actions)):
        refused = client.post(f"/drills/{action}", data={"csrf_token": token, "text": "x", "action": "y"})
        assert refused.status_code == 403 and "Roolisi ei salli" in refused.text, action
    assert client.get("/drills/new").status_code == 403
    assert client.get(f"/drills/{drill_id}/start").status_code == 403

    with database.session() as session:
        contact = {v for row in session.execute(select(Person.mobile, Person.email)) for v in row if v}
    report = client.get(f"/drills/{drill_id}/report.html").text
    assert "Aino Aaltonen" in report and not [value for value in contact if value in report]
    assert report_calls[-1]["contact_details"] is False  # built as the API builds a viewer's: no numbers
    assert not [value for value in contact if value in page]
    assert client.get("/drills/999999").status_code == 404
    request = DrillCreate.model_validate(
        {"name": "Ei pidetty", "kind": "exercise", "targets": {"groups": [roster.group_id]}}
    )
    planned = plans.plan(request=request, actor="test").id
    assert client.get(f"/drills/{planned}/report.html").status_code == 404  # not held: no report yet
    assert not [value for value in contact if value in client.get(f"/drills/{drill_id}/live").text]


def test_the_situation_page_shows_a_running_drill_s_exercise_levels_apart_from_the_real_ones(
    client: TestClient, database: Database, accounts: dict[Role, int], roster: Roster, keys: dict[Role, str]
) -> None:
    deciding = _started(database, roster, kind="exercise", name="Myrskyharjoitus")
    quiet = _started(database, roster, kind="exercise", name="Hiljainen harjoitus")
    decision = {"area": "kokkola", "level": "taysvalmius", "reason": "Harjoitus: myrsky", "drill_id": deciding}
    answer = client.post("/api/v1/readiness/decisions", json=decision, headers=auth(keys[Role.operator]))
    assert answer.status_code == 201, answer.text
    sign_in(client, Role.viewer)
    page = client.get("/").text
    real, _, exercise = page.partition('<section class="exercise-picture"')
    assert "Harjoitus: Myrskyharjoitus" in exercise and "Hiljainen harjoitus" not in page  # no decisions, no section
    row = re.search(r'class="depth-2 decided-in-exercise">\s*<th scope="row">Kokkola</th>(.*?)</tr>', exercise, re.S)
    assert row and "täysvalmius" in row.group(1) and "harjoituspäätös" in row.group(1)
    kokkola = re.search(r'aria-labelledby="tile-kokkola">(.*?)</article>', real, re.S)
    assert kokkola and "täysvalmius" not in kokkola.group(1)  # the real level is unchanged
    situation = client.get("/api/v1/situation", headers=auth(keys[Role.viewer])).json()
    assert next(a for a in situation["areas"] if a["key"] == "kokkola")["decided"]["level"] == "perusvalmius"

    flows.end_by_hand(drill_id=deciding, actor="test")
    flows.end_by_hand(drill_id=quiet, actor="test")
    assert 'class="exercise-picture"' not in client.get("/").text


def test_an_exercise_s_phases_start_from_its_page(
    client: TestClient, database: Database, accounts: dict[Role, int], roster: Roster
) -> None:
    phases = [
        {"name": "Myrsky", "title": "Vaihe 1: myrsky", "message": "Kokoontukaa.", "snapshot": True},
        {"name": "Muodostelmat", "description": "Väestönsuojelumuodostelmat perustetaan."},
    ]
    request = DrillCreate.model_validate(
        {"name": "Paikallispuolustusharjoitus", "kind": "exercise", "targets": {"groups": [roster.group_id]},
         "phases": phases}
    )  # fmt: skip
    drill_id = plans.plan(request=request, actor="test").id
    token = sign_in(client, Role.operator)
    confirm = client.get(f"/drills/{drill_id}/start").text
    assert "Harjoituksella ei ole aloitushälytystä" in confirm
    client.post(f"/drills/{drill_id}/start", data={"csrf_token": token})
    page = client.get(f"/drills/{drill_id}").text
    assert "Käynnistä vaihe 1" in page and "Käynnistä vaihe 2" in page
    started = client.post(f"/drills/{drill_id}/phases/1/start", data={"csrf_token": token}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].endswith("#phases")
    again = client.post(f"/drills/{drill_id}/phases/1/start", data={"csrf_token": token})
    assert again.status_code == 409 and "Vaihetta ei käynnistetty" in again.text
    assert client.post(f"/drills/{drill_id}/phases/9/start", data={"csrf_token": token}).status_code == 404
    observation = {"csrf_token": token, "text": "Koolla", "phase": "1"}
    assert client.post(f"/drills/{drill_id}/observations", data=observation).status_code == 200  # back on the page
    page = client.get(f"/drills/{drill_id}").text
    assert "Käynnistä vaihe 1" not in page and "vaiheen hälytys" in page and "Vaihe 1" in page
    with database.session() as session:
        drill = session.get(Drill, drill_id)
        assert drill is not None and drill.phases[0].started_at and drill.phases[0].snapshot_id
        assert session.scalars(select(DrillObservation.phase)).one() == 1
        (alert,) = session.scalars(select(Alert)).all()
        assert alert.exercise and alert.title == "Vaihe 1: myrsky"
