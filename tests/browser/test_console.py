"""The web console in a real browser (Chromium): an operator sends an exercise alert to a demo group and watches an
acknowledgement made on a second page arrive without a reload; refused sign-in; a form without its CSRF token; a
viewer who may not send; a page reached by keyboard alone; axe-core on every main page, and their screenshots."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, Request, Route, ViewportSize, expect

from alueturva.auth.models import Role
from tests.browser.conftest import (
    ACCOUNTS,
    SCREENSHOTS,
    LiveService,
    check_accessibility,
    check_page,
    screenshot,
    sign_in,
)

PHONE: ViewportSize = {"width": 390, "height": 844}
OPERATIONS_ROOM: ViewportSize = {"width": 1920, "height": 1080}


def _api(service: LiveService, path: str) -> dict:
    response = httpx.get(f"{service.url}/api/v1{path}", headers={"Authorization": f"Bearer {service.api_key}"})
    response.raise_for_status()
    return response.json()


def _group_id(service: LiveService, key: str) -> int:
    return next(g["id"] for g in _api(service, "/groups")["items"] if g["key"] == key)


def test_an_exercise_alert_is_sent_and_its_acknowledgement_arrives_live(
    page: Page, browser: Browser, base_url: str, live_service: LiveService
) -> None:
    page.set_viewport_size(OPERATIONS_ROOM)
    sign_in(page, base_url, Role.operator)
    page.get_by_role("link", name="Lähetä hälytys").click()
    expect(page.get_by_role("switch", name="Harjoitus")).to_be_checked()  # no raised level: an exercise by default
    check_page(page, "send")

    page.check(f"input[name=groups][value='{_group_id(live_service, 'alueturva_steering')}']")
    page.get_by_label("Otsikko").first.fill("Yhteyskoe")
    page.get_by_label("Viesti", exact=True).first.fill("Kuittaa tämä viesti, kiitos.")
    page.get_by_label("Vastausvaihtoehdot").first.fill("Tulen paikalle\nEn pääse")
    page.fill("#title_sv", "Sambandsprov")
    page.fill("#message_sv", "Kvittera detta meddelande, tack.")
    page.fill("#response_options_sv", "Jag kommer\nJag kan inte")
    page.get_by_role("button", name="Näytä vastaanottajat ennen lähetystä").click()
    expect(page.get_by_role("heading", name="3 vastaanottajaa")).to_be_visible()
    page.set_viewport_size(PHONE)
    check_page(page, "confirm")
    page.set_viewport_size(OPERATIONS_ROOM)
    sms = page.locator("#sms-versions")
    versions = sms.locator("tbody th[scope=row]")  # the versions the recipients get: Finnish, Swedish, both
    expect(versions.first).to_be_visible()
    expect(sms.get_by_role("cell", name=re.compile(r"\d viestiosaa? \(UCS-2"))).to_have_count(2 * versions.count())
    check_page(page, "confirm")

    page.get_by_role("button", name="Lähetä harjoitushälytys").click()
    page.wait_for_url(re.compile(r"/alerts/\d+$"))
    alert_id = int(page.url.rsplit("/", 1)[1])
    counter = page.locator("[data-count=acknowledged]")
    expect(counter).to_have_text("0")
    page.evaluate("window.notReloaded = true")

    recipient = _api(live_service, f"/alerts/{alert_id}/recipients")["items"][0]
    link = live_service.cli("alert", "link", str(alert_id), str(recipient["id"])).strip().splitlines()[-1]
    contact = browser.new_context(viewport=PHONE).new_page()
    contact.goto(link)
    expect(contact.locator("html")).to_have_attribute("lang", re.compile("fi|sv|en"))
    check_accessibility(contact)
    contact.get_by_role("button", name=re.compile("Tulen paikalle|Jag kommer|Coming|Kuittaa")).first.click()
    check_page(contact, "acknowledgement")
    contact.context.close()

    expect(counter).to_have_text("1", timeout=15_000)
    assert page.evaluate("window.notReloaded") is True, "the page was reloaded"
    expect(page.get_by_role("heading", name="Ei vielä kuitannut (2)")).to_be_visible()
    check_page(page, "alert")
    page.set_viewport_size(PHONE)
    check_page(page, "alert")


def test_main_pages_at_phone_and_operations_room_widths(page: Page, base_url: str) -> None:
    sign_in(page, base_url, Role.admin)
    for size in (OPERATIONS_ROOM, PHONE):
        page.set_viewport_size(size)
        pages = (
            ("situation", "/"),
            ("alerts", "/alerts"),
            ("send", "/alerts/new"),
            ("rosters", "/rosters"),
            ("people", "/rosters/people"),
            ("audit", "/audit"),
        )
        for name, path in pages:
            page.goto(f"{base_url}{path}")
            expect(page.locator("h1")).to_be_visible()
            check_page(page, name)
    page.goto(f"{base_url}/language/sv?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", name="Regional lägesbild")).to_be_visible()
    page.goto(f"{base_url}/language/fi?next=/")


def test_a_wrong_password_is_refused(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", ACCOUNTS[Role.operator].email)
    page.fill("#password", "not the password at all")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Sähköposti tai salasana on väärin")
    assert page.url.endswith("/login")
    check_page(page, "login")


def test_a_form_without_its_csrf_token_is_refused(page: Page, base_url: str, live_service: LiveService) -> None:
    sign_in(page, base_url, Role.operator)
    before = _api(live_service, "/alerts")["total"]
    group = str(_group_id(live_service, "alueturva_steering"))
    form: dict[str, str | float | bool] = {
        "groups": group,
        "title_fi": "Ei saa lähteä",
        "message_fi": "Ei saa lähteä",
        "exercise": "on",
    }
    answer = page.request.post(f"{base_url}/alerts/new/send", form=form, max_redirects=0)
    assert answer.status == 403
    assert "Lomake vanheni" in answer.text()
    assert _api(live_service, "/alerts")["total"] == before


def test_a_viewer_sees_no_send_button_and_may_not_post(page: Page, base_url: str, live_service: LiveService) -> None:
    sign_in(page, base_url, Role.viewer)
    page.goto(f"{base_url}/alerts")
    expect(page.get_by_role("link", name="Lähetä hälytys")).to_have_count(0)
    token = page.locator("form[action='/logout'] input[name=csrf_token]").input_value()
    before = _api(live_service, "/alerts")["total"]
    group = str(_group_id(live_service, "alueturva_steering"))
    form: dict[str, str | float | bool] = {
        "csrf_token": token,
        "groups": group,
        "title_fi": "Katselija",
        "message_fi": "Ei oikeutta",
        "exercise": "on",
    }
    answer = page.request.post(f"{base_url}/alerts/new/send", form=form, max_redirects=0)
    assert answer.status == 403
    assert "Roolisi ei salli" in answer.text()
    assert page.request.get(f"{base_url}/alerts/new").status == 403
    assert _api(live_service, "/alerts")["total"] == before


def test_signing_in_and_reaching_the_rosters_by_keyboard_alone(page: Page, base_url: str) -> None:
    account = ACCOUNTS[Role.admin]
    page.goto(f"{base_url}/login")
    expect(page.locator("#email")).to_be_focused()  # the form is where the keyboard starts
    page.keyboard.type(account.email)
    page.keyboard.press("Tab")
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Siirry sisältöön")
    expect(skip).to_be_focused()
    focus_ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focus_ring != "none", "the focused link shows no focus ring"
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Yhteyshenkilöt":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/rosters")
    expect(page.get_by_role("heading", name="Yhteyshenkilöt", level=1)).to_be_visible()


def test_the_api_documentation_works_on_a_closed_network(page: Page, base_url: str) -> None:
    outside: list[str] = []

    def only_loopback(route: Route, request: Request) -> None:
        if request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(f"{base_url}/docs")
    expect(page.get_by_text("POST/api/v1/alerts").first).to_be_visible(timeout=15_000)
    assert outside == []


def _each_width(page: Page, name: str) -> None:
    for size in (OPERATIONS_ROOM, PHONE):
        page.set_viewport_size(size)
        check_page(page, name)
    page.set_viewport_size(OPERATIONS_ROOM)


def test_the_demo_drill_its_page_and_its_report(page: Page, base_url: str) -> None:
    page.set_viewport_size(OPERATIONS_ROOM)
    sign_in(page, base_url, Role.viewer)
    page.get_by_role("link", name="Harjoitukset", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Harjoitukset"))).to_be_visible()
    expect(page.get_by_role("link", name="Suunnittele harjoitus")).to_have_count(0)  # a viewer plans nothing
    _each_width(page, "drills")

    page.get_by_role("link", name="Johtoryhmien hälytysharjoitus (demo)").click()
    expect(page.get_by_text("HARJOITUS", exact=True).first).to_be_visible()
    objectives = page.locator("#objectives-heading + table")
    expect(objectives.get_by_text("täyttyi").first).to_be_visible()
    expect(page.locator("form[action$='/observations']")).to_have_count(0)
    _each_width(page, "drill-demo")

    report_pdf = page.get_by_role("link", name="Raportti PDF-tiedostona", exact=True).get_attribute("href")
    preparing = page.request.get(f"{base_url}{report_pdf}")  # a worker builds it; the page says so and reloads
    assert preparing.status == 202 and "Raporttia valmistellaan" in preparing.text()
    pdf = b""
    for _ in range(600):
        if (answer := page.request.get(f"{base_url}{report_pdf}")).status == 200:
            pdf = answer.body()
            break
        page.wait_for_timeout(200)
    assert pdf.startswith(b"%PDF")
    page.get_by_role("link", name="Avaa raportti", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator("header")).to_contain_text("Johtoryhmien hälytysharjoitus (demo)")
    assert "+358" not in page.content()  # a viewer's report has no numbers
    screenshot(page, "drill-report")


def test_a_drill_is_planned_started_watched_and_ended(page: Page, base_url: str, live_service: LiveService) -> None:
    page.set_viewport_size(OPERATIONS_ROOM)
    sign_in(page, base_url, Role.operator)
    page.goto(f"{base_url}/drills")
    page.get_by_role("link", name="Suunnittele harjoitus").click()
    _each_width(page, "drill-plan")

    name = page.get_by_label("Nimi", exact=True)
    name.focus()
    page.keyboard.type("Yhteyskoe selaimesta")
    page.keyboard.press("Enter")  # sent without targets or text: refused, field by field
    expect(page.get_by_role("alert")).to_contain_text("Valitse vähintään yksi vastaanottaja")
    expect(page.locator("#title_fi-error")).to_have_text("Suomenkielinen otsikko puuttuu.")
    expect(page.get_by_label("Nimi", exact=True)).to_have_value("Yhteyskoe selaimesta")
    page.set_viewport_size(PHONE)
    check_page(page, "drill-plan-refused")
    page.set_viewport_size(OPERATIONS_ROOM)

    page.get_by_label(re.compile("Yhteyskoe")).check()
    page.check(f"input[name=groups][value='{_group_id(live_service, 'alueturva_steering')}']")
    page.fill("#title_fi", "Yhteyskoe")
    page.fill("#message_fi", "Kuittaa tämä harjoitusviesti, kiitos.")
    page.fill("#title_sv", "Sambandsprov")
    page.fill("#message_sv", "Kvittera detta övningsmeddelande, tack.")
    page.get_by_label("Arvioitavat tavoitteet (yksi riville)").fill("Päivystäjä tarkisti tavoittamattomat")
    page.get_by_role("button", name="Tallenna suunnitelma").click()
    page.wait_for_url(re.compile(r"/drills/\d+$"))
    drill_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#live .state")).to_contain_text("suunniteltu")
    check_page(page, "drill-planned")

    page.get_by_role("link", name="Käynnistä harjoitus…").click()
    expect(page.get_by_role("heading", name="Harjoitushälytys lähtee nyt 3 vastaanottajalle")).to_be_visible()
    _each_width(page, "drill-start")
    page.get_by_role("button", name="Käynnistä harjoitus nyt").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/drills/{drill_id}")
    counter = page.locator("[data-count=acknowledged]")
    expect(counter).to_have_text("0")
    page.evaluate("window.notReloaded = true")

    drill = httpx.get(
        f"{live_service.url}/api/v1/drills/{drill_id}", headers={"Authorization": f"Bearer {live_service.api_key}"}
    ).json()
    (alert_id,) = drill["alerts"]
    recipient = _api(live_service, f"/alerts/{alert_id}/recipients")["items"][0]
    live_service.cli("alert", "ack", str(alert_id), str(recipient["id"]))
    expect(counter).to_have_text("1", timeout=15_000)
    assert page.evaluate("window.notReloaded") is True, "the page was reloaded"

    decision = {"area": "kokkola", "level": "taysvalmius", "reason": "Harjoitus: myrsky", "drill_id": drill_id}
    httpx.post(
        f"{live_service.url}/api/v1/readiness/decisions",
        json=decision,
        headers={"Authorization": f"Bearer {live_service.api_key}"},
    ).raise_for_status()
    page.get_by_label("Havainto", exact=True).fill("Kokkolan päivystäjä kuittasi ensimmäisenä.")
    page.get_by_role("button", name="Kirjaa havainto").click()
    expect(page.get_by_text("Kokkolan päivystäjä kuittasi ensimmäisenä.")).to_be_visible()
    _each_width(page, "drill-running")

    page.get_by_role("link", name="Tilannekuva").click()
    exercise = page.get_by_role("region", name=re.compile("Harjoitus: Yhteyskoe selaimesta"))
    expect(exercise.get_by_role("row", name=re.compile("^Kokkola")).last).to_contain_text("täysvalmius")
    real_kokkola = page.locator("article[aria-labelledby=tile-kokkola] .levels")
    expect(real_kokkola).not_to_contain_text("täysvalmius")  # the real level stays as it was
    _each_width(page, "situation-exercise")
    exercise.screenshot(path=str(SCREENSHOTS / "situation-exercise-section-1920.png"))

    page.goto(f"{base_url}/drills/{drill_id}")
    page.get_by_text("Päätä harjoitus…").click()  # a confirmation first: ending cannot be undone
    page.get_by_role("button", name="Päätä harjoitus nyt").click()
    expect(page.locator("#live .state")).to_contain_text("päättynyt")
    page.get_by_role("link", name="Tilannekuva").click()
    expect(page.get_by_role("region", name=re.compile("Harjoitus:"))).to_have_count(0)


def test_an_exercise_call_answered_by_keypad_shows_on_the_alert_page(
    page: Page, base_url: str, live_service: LiveService
) -> None:
    """The demo's calls: sent by the command line, answered with `alueturva call`, read on the alert's page."""
    live_service.cli(
        "alert", "send", "Puheluharjoitus", "Kokoontuminen klo 14.30.", "--group", "alueturva_steering",
        "--channel", "voice", "--exercise",
    )  # fmt: skip
    alert_id = _api(live_service, "/alerts?limit=1")["items"][0]["id"]
    numbers = sorted({m["to"] for m in _api(live_service, "/outbox?limit=50")["items"] if m["channel"] == "voice"})
    assert len(numbers) >= 2
    heard = live_service.cli("call", "answer", "--to", numbers[0], "--digits", "1", "--seconds", "48")
    assert heard.startswith("Tämä on harjoitus.") or "Detta är en övning." in heard
    live_service.cli("call", "unanswered", "--to", numbers[1])
    page.set_viewport_size(OPERATIONS_ROOM)
    sign_in(page, base_url, Role.viewer)
    page.goto(f"{base_url}/alerts/{alert_id}")
    calls = page.locator("#calls")
    expect(calls.get_by_role("heading", name="Puhelut")).to_be_visible()
    expect(calls.get_by_role("cell", name="0 min 48 s")).to_be_visible()
    expect(calls.get_by_role("cell", name="ei vastattu")).to_be_visible()
    check_page(page, "alert-calls")
    page.set_viewport_size(PHONE)
    check_page(page, "alert-calls")
