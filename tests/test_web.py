"""The web console over HTTP (the browser tests in tests/browser drive it in Chromium): signing in and out,
cookies, CSRF, roles, and that its pages change things through the same flows as the API, audited with the
signed-in person as actor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting.models import Alert, AlertEvent, Recipient
from alerting.schemas import Targets
from alerting.targets import add_recipients, preview_recipients, resolve_references, targeted_people
from alueturva.app.web.texts import TEXTS_FILE, text_file
from alueturva.audit.models import AuditEvent
from alueturva.auth.models import Role
from alueturva.db import Database, utcnow
from alueturva.i18n import format_time
from alueturva.settings import get_settings
from contacts.models import Group, Person
from tests.support.roster import Roster, make_roster
from tests.support.web import PASSWORD, sign_in
from tests.support.web import csrf_token as _token

TEMPLATES = Path(TEXTS_FILE).with_name("templates")


def test_pages_ask_for_sign_in_and_cookies_are_http_only_and_same_site(
    client: TestClient, accounts: dict[Role, int]
) -> None:
    first = client.get("/alerts", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Falerts"
    page = client.get("/login")
    assert '<html lang="fi">' in page.text
    answer = client.post(
        "/login",
        data={"email": "operator@example.fi", "password": PASSWORD, "next": "/alerts", "csrf_token": _token(page.text)},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/alerts"
    cookie = answer.headers["set-cookie"]
    assert "alueturva_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # the public address is http here
    assert client.get("/alerts").status_code == 200


def test_cookies_are_secure_when_the_public_address_is_https(
    client: TestClient, accounts: dict[Role, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALUETURVA_PUBLIC_BASE_URL", "https://alueturva.example.fi")
    get_settings.cache_clear()
    client = TestClient(client.app, base_url="https://testserver")  # a browser sends Secure cookies over TLS only
    page = client.get("/login")
    assert "Secure" in page.headers["set-cookie"]
    answer = client.post(
        "/login",
        data={
            "email": "viewer@example.fi",
            "password": PASSWORD,
            "next": "//evil.example",
            "csrf_token": _token(page.text),
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/"  # never to another site
    assert "Secure" in answer.headers["set-cookie"] and "HttpOnly" in answer.headers["set-cookie"]


def test_sign_in_needs_its_csrf_token_and_a_right_password(client: TestClient, accounts: dict[Role, int]) -> None:
    client.get("/login")
    no_token = client.post("/login", data={"email": "viewer@example.fi", "password": PASSWORD})
    assert no_token.status_code == 403 and "Lomake vanheni" in no_token.text
    page = client.get("/login")
    wrong = client.post(
        "/login",
        data={"email": "viewer@example.fi", "password": "wrong password here", "csrf_token": _token(page.text)},
    )
    assert wrong.status_code == 401 and "salasana on väärin" in wrong.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_reporter_account_reads_no_page_but_may_sign_out(client: TestClient, accounts: dict[Role, int]) -> None:
    page = client.get("/login")
    client.post("/login", data={"email": "reporter@example.fi", "password": PASSWORD, "csrf_token": _token(page.text)})
    refused = client.get("/")
    assert refused.status_code == 403 and "Roolisi ei salli" in refused.text
    signed_out = client.post("/logout", data={"csrf_token": _token(refused.text)}, follow_redirects=False)
    assert signed_out.status_code == 303


def test_sign_out_ends_the_session_on_the_server(client: TestClient, accounts: dict[Role, int]) -> None:
    token = sign_in(client, Role.viewer)
    cookie = client.cookies.get("alueturva_session")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403  # without its token
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    client.cookies.set("alueturva_session", cookie or "")  # the old cookie, kept by someone
    assert client.get("/", follow_redirects=False).status_code == 303


def _send_form(token: str, group_id: int, **extra: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "groups": str(group_id),
        "title_fi": "Koehälytys",
        "exercise": "on",
        "message_fi": "Kuittaa, kiitos.",
        "channels": "sms",
        "idempotency_key": "web-test-1",
        **extra,
    }


def test_an_operator_previews_and_sends_through_the_alert_flow(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    roster = make_roster(database)
    token = sign_in(client, Role.operator)
    form = client.get("/alerts/new")
    assert 'role="switch"' in form.text and " checked" in form.text.split('id="exercise"')[1].split(">")[0]
    preview = client.post("/alerts/new/preview", data=_send_form(token, roster.group_id))
    assert preview.status_code == 200
    assert "4 vastaanottajaa" in preview.text
    assert "Cecilia Carlsson" in preview.text.split("Ei matkapuhelinnumeroa (1)")[1]  # the email-only person
    assert "2 viestiosaa (UCS-2, 77 merkkiä)" in preview.text  # the exercise prefix's en dash is not in GSM-7
    for _ in range(2):  # sent twice (a double click): the idempotency key keeps it one alert
        sent = client.post("/alerts/new/send", data=_send_form(token, roster.group_id), follow_redirects=False)
        assert sent.status_code == 303
    with database.session() as session:
        alerts = session.scalars(select(Alert)).all()
        assert len(alerts) == 1 and alerts[0].exercise
        assert alerts[0].created_by == f"web:user:{accounts[Role.operator]}"
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.send")).one()
        assert audit.actor == f"web:user:{accounts[Role.operator]}"
    page = client.get(sent.headers["location"])
    assert format_time(alerts[0].created_at, "fi") in page.text  # Finnish time
    assert "+358401110001" in page.text  # the operator sees numbers to phone


def test_the_send_form_says_what_is_missing_and_sends_nothing(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    token = sign_in(client, Role.operator)
    answer = client.post("/alerts/new/preview", data={"csrf_token": token, "title_sv": "Övning"})
    assert answer.status_code == 422
    for text in (
        "Valitse vähintään yksi vastaanottaja",
        "Suomenkielinen otsikko puuttuu",
        "Suomenkielinen viesti puuttuu",
    ):
        assert text in answer.text
    with database.session() as session:
        assert session.scalars(select(Alert)).first() is None


def test_a_swedish_version_is_previewed_per_reader_and_sent_whole(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    roster = make_roster(database)
    token = sign_in(client, Role.operator)
    swedish = {
        "title_sv": "Provlarm",
        "message_sv": "Kvittera, tack.",
        "response_options_fi": "Tulen\nEn pääse",
        "response_options_sv": "Jag kommer\nJag kan inte",
    }
    preview = client.post("/alerts/new/preview", data=_send_form(token, roster.group_id, **swedish))
    assert preview.status_code == 200
    rows = re.findall(r'<th scope="row">(Suomeksi|Ruotsiksi)</th><td>(\d+)</td>', preview.text)
    assert rows == [("Suomeksi", "2"), ("Ruotsiksi", "1")]  # Bertil reads Swedish; Cecilia has no mobile
    assert "Jag kan inte" in preview.text
    sent = client.post("/alerts/new/send", data=_send_form(token, roster.group_id, **swedish), follow_redirects=False)
    assert sent.status_code == 303
    with database.session() as session:
        alert = session.scalars(select(Alert)).one()
        swedish_text = {"title": "Provlarm", "message": "Kvittera, tack."}
        assert alert.translations == {"sv": swedish_text | {"response_options": ["Jag kommer", "Jag kan inte"]}}
    client.get("/language/sv", params={"next": "/"})
    assert "Provlarm" in client.get(sent.headers["location"]).text  # the page shows the version in its language


def test_a_swedish_version_missing_its_message_or_an_option_is_refused(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    roster = make_roster(database)
    token = sign_in(client, Role.operator)
    half = {"title_sv": "Provlarm", "response_options_fi": "Tulen\nEn pääse", "response_options_sv": "Jag kommer"}
    answer = client.post("/alerts/new/send", data=_send_form(token, roster.group_id, **half))
    assert answer.status_code == 422
    assert "Ruotsinkielisestä versiosta puuttuu otsikko tai viesti" in answer.text
    assert "Ruotsinkielisiä vastausvaihtoehtoja on oltava yhtä monta kuin suomenkielisiä" in answer.text
    with database.session() as session:
        assert session.scalars(select(Alert)).first() is None


def test_the_preview_names_exactly_whom_the_alert_reaches(database: Database) -> None:
    roster: Roster = make_roster(database)
    targets = Targets(groups=[roster.group_id], areas=["Kokkola"])
    with database.session() as session:
        previewed = {person.person_id for person in preview_recipients(session, targets=targets)}
        alert = Alert(
            title="t",
            message="m",
            exercise=True,
            short_code="1000",
            channels=["sms"],
            targets={},
            response_options=[],
            escalation={},
            created_by="test",
            closes_at=utcnow(),
        )
        session.add(alert)
        session.flush()
        people = targeted_people(session, targets=resolve_references(session, targets))
        add_recipients(session, alert_id=alert.id, person_ids=people, now=utcnow())
        written = set(session.scalars(select(Recipient.person_id).where(Recipient.alert_id == alert.id)))
        session.rollback()
    assert previewed == written and previewed


def test_acknowledging_for_someone_and_cancelling_with_a_reason(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    roster = make_roster(database)
    token = sign_in(client, Role.operator)
    location = client.post("/alerts/new/send", data=_send_form(token, roster.group_id), follow_redirects=False).headers[
        "location"
    ]
    alert_id = int(location.rsplit("/", 1)[1])
    with database.session() as session:
        recipient_id = session.scalars(select(Recipient.id).where(Recipient.alert_id == alert_id)).first()
    acked = client.post(
        f"/alerts/{alert_id}/recipients/{recipient_id}/acknowledge",
        data={"csrf_token": token, "note": "soitettu"},
        follow_redirects=False,
    )
    assert acked.status_code == 303
    assert "Ei vielä kuitannut (3)" in client.get(f"/alerts/{alert_id}/live").text
    assert client.post(f"/alerts/{alert_id}/cancel", data={"csrf_token": token, "reason": " "}).status_code == 422
    cancelled = client.post(
        f"/alerts/{alert_id}/cancel", data={"csrf_token": token, "reason": "Väärä ryhmä"}, follow_redirects=False
    )
    assert cancelled.status_code == 303
    actor = f"web:user:{accounts[Role.operator]}"
    with database.session() as session:
        recipient = session.get(Recipient, recipient_id)
        assert recipient is not None and recipient.ack_by == actor
        event = session.scalars(select(AlertEvent).where(AlertEvent.kind == "cancelled")).one()
        assert event.details["reason"] == "Väärä ryhmä"
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "alert.cancel")).one()
        assert audit.actor == actor and audit.details["reason"] == "Väärä ryhmä"


def test_a_viewer_reads_but_may_not_act_and_sees_no_numbers(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    roster = make_roster(database)
    operator = TestClient(client.app)
    location = operator.post(
        "/alerts/new/send", data=_send_form(sign_in(operator, Role.operator), roster.group_id), follow_redirects=False
    ).headers["location"]
    token = sign_in(client, Role.viewer)
    page = client.get(location)
    assert page.status_code == 200 and "Bertil Backman" in page.text
    assert "+358" not in page.text and "Peru hälytys" not in page.text
    assert 'href="/alerts/new"' not in client.get("/alerts").text
    alert_id = location.rsplit("/", 1)[1]
    for path in ("/alerts/new/send", f"/alerts/{alert_id}/cancel", "/rosters/people/new"):
        refused = client.post(path, data={"csrf_token": token, "reason": "x", "name": "x"})
        assert refused.status_code == 403 and "Roolisi ei salli" in refused.text, path
    assert client.get("/audit").status_code == 403
    assert client.get("/alerts/999999").status_code == 404


def test_an_admin_edits_a_person_with_the_api_s_validation_and_is_audited(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    roster = make_roster(database)
    token = sign_in(client, Role.admin)
    person_id = roster.people["aino"]
    values = {
        "csrf_token": token,
        "name": "Aino Aaltonen",
        "organisation_id": str(roster.organisations["kannus"]),
        "title": "Valmiuspäällikkö",
        "mobile": "09 123 4567",
        "email": "aino@example.fi",
        "language": "sv",
        "active": "on",
    }
    refused = client.post(f"/rosters/people/{person_id}", data=values)
    assert refused.status_code == 422 and "mobile" in refused.text
    saved = client.post(
        f"/rosters/people/{person_id}", data={**values, "mobile": "040 555 0101"}, follow_redirects=False
    )
    assert saved.status_code == 303
    group = client.post(
        f"/rosters/people/{person_id}/memberships",
        data={"csrf_token": token, "group_id": str(roster.group_id), "role": "civil_defence_contact"},
        follow_redirects=False,
    )
    assert group.status_code == 303
    with database.session() as session:
        person = session.get(Person, person_id)
        assert person is not None and person.mobile == "+358405550101" and person.language == "sv"
        actors = set(
            session.scalars(
                select(AuditEvent.actor).where(AuditEvent.action.in_(["person.update", "membership.create"]))
            )
        )
    assert actors == {f"web:user:{accounts[Role.admin]}"}
    assert "Bertil Backman" in client.get(f"/rosters/groups/{roster.group_id}").text


def test_a_roster_file_is_imported_all_or_nothing_with_its_row_errors(
    client: TestClient, database: Database, accounts: dict[Role, int]
) -> None:
    token = sign_in(client, Role.admin)
    header = "organisation;name;title;mobile;email;language;group;role;deputy_of;order\n"
    bad = header + "Kannus;Uusi Henkilö;;040 1;;fi;;;;\nEi ole;Toinen;;;;fi;;;;\n"
    rejected = client.post(
        "/rosters/import", data={"csrf_token": token}, files={"file": ("roster.csv", bad.encode(), "text/csv")}
    )
    assert rejected.status_code == 422
    assert re.search(r"<td>2</td><td>mobile</td><td>Matkapuhelinnumero ei kelpaa", rejected.text) and re.search(
        r"<td>3</td><td>organisation</td><td>Organisaatiota ei tunneta", rejected.text
    )  # what was wrong in the page's language
    good = header + "Kannus;Uusi Henkilö;;040 555 0199;;fi;;;;\n"
    checked = client.post(
        "/rosters/import",
        data={"csrf_token": token, "dry_run": "on"},
        files={"file": ("roster.csv", good.encode(), "text/csv")},
    )
    assert checked.status_code == 200 and "Tarkistus valmis" in checked.text
    with database.session() as session:
        assert session.scalars(select(Person).where(Person.name == "Uusi Henkilö")).first() is None
    done = client.post(
        "/rosters/import", data={"csrf_token": token}, files={"file": ("roster.csv", good.encode(), "text/csv")}
    )
    assert done.status_code == 200 and "Tuonti tehty" in done.text
    with database.session() as session:
        assert session.scalars(select(Person).where(Person.name == "Uusi Henkilö")).one()


def test_the_audit_log_filters_for_admins(client: TestClient, database: Database, accounts: dict[Role, int]) -> None:
    sign_in(client, Role.admin)
    with database.session() as session:
        session.add(Group(key="audit_probe", name="Probe", builtin=False))
    page = client.get("/audit", params={"action": "user.sign_in"})
    assert page.status_code == 200 and "user.sign_in" in page.text and "user.create" not in page.text
    assert "Päivämäärä on muodossa" in client.get("/audit", params={"since": "1.12.2026"}).text


def test_pages_follow_the_chosen_language(client: TestClient, accounts: dict[Role, int]) -> None:
    sign_in(client, Role.viewer)
    assert (
        client.get("/language/sv", params={"next": "/rosters"}, follow_redirects=False).headers["location"]
        == "/rosters"
    )
    page = client.get("/rosters")
    assert '<html lang="sv">' in page.text and "Utsedda kontaktpersoner per organisation" in page.text


def test_the_api_documentation_comes_from_local_files(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"https?://", page.text)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert len(assets) == 3
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_every_text_a_template_uses_exists() -> None:
    """Every ``t.key`` and ``tr('key', …)`` of the templates has an entry (each entry has fi, sv and en whole:
    tests/test_texts.py)."""
    entries = text_file().entries
    used = set()
    for template in TEMPLATES.glob("*.j2"):
        source = template.read_text()
        used |= set(re.findall(r"\bt\.([a-z_]+)", source)) | set(re.findall(r"\btr\('([a-z_]+)'", source))
    assert used <= entries.keys(), used - entries.keys()
