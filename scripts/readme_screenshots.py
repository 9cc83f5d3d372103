"""Retake the README's screenshots from the demo as a newcomer gets it: a fresh directory, `alueturva up --demo`, the
README's own first steps (an exercise alert sent from the command line and one phone's reply), then headless
Chromium on the pages the README shows, and the demo drill's report (its first page, by pdftoppm).

    .venv/bin/python scripts/readme_screenshots.py [--port 8765] [--out docs]

Needs /usr/bin/chromium (scripts/browser.sh) and pdftoppm (poppler-utils). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ALUETURVA = str(Path(sys.executable).with_name("alueturva"))
WIDE, PHONE = {"width": 1920, "height": 1080}, {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def run(directory: Path, *args: str) -> str:
    done = subprocess.run([ALUETURVA, *args], cwd=directory, capture_output=True, text=True, check=True)
    return done.stdout + done.stderr


def start_demo(directory: Path, port: int) -> tuple[subprocess.Popen[str], str, str]:
    """`up --demo` in ``directory``; the first start's admin key and password."""
    log = (directory / "up.log").open("w")
    process = subprocess.Popen([ALUETURVA, "up", "--demo", "--port", str(port)], cwd=directory, stderr=log, stdout=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        raise RuntimeError(f"the demo did not start: {(directory / 'up.log').read_text()}")
    # without a terminal, the first start writes the key and password to a file only its owner can read
    first_start = directory / "alueturva-first-admin.txt"
    text = first_start.read_text() if first_start.exists() else (directory / "up.log").read_text()
    key = re.search(r"export KEY=(\S+)", text)
    password = re.search(r"with the password (\S+)", text)
    assert key and password, text
    return process, key.group(1), password.group(1)


def readme_steps(directory: Path) -> None:
    """The README's "Try it": an exercise alert in Finnish and Swedish with a poll, and one phone answering."""
    run(
        directory, "alert", "send", "Hälytysharjoitus", "Kokoontuminen Teams-kokoukseen klo 14.",
        "--title-sv", "Larmövning", "--message-sv", "Möte i Teams kl. 14.", "--group", "valmiusjohtoryhma",
        "--exercise", "--response-option", "Tulen paikalle", "--response-option", "En pääse",
        "--response-option-sv", "Jag kommer", "--response-option-sv", "Jag kan inte",
    )  # fmt: skip
    outbox = run(directory, "outbox", "--limit", "10")
    number = re.search(r"(\+46\s?70\s?174\s?\d\d\s?\d\d|\+4670174\d{4})", outbox)
    code = re.search(r"OK (\d{4})|esim\. 1 (\d{4})|t\.ex\. 1 (\d{4})", outbox)
    assert number and code, outbox
    answer = f"1 {next(group for group in code.groups() if group)}"
    run(directory, "sms", "reply", "--from", number.group(1).replace(" ", ""), answer)


def sign_in(page: Page, base: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "admin@localhost")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def shoot(page: Page, path: Path, *, full_page: bool = True) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path.relative_to(ROOT)}")


def a_recipient_of(base: str, key: str, alert_id: int) -> int:
    response = httpx.get(f"{base}/api/v1/alerts/{alert_id}/recipients", headers={"Authorization": f"Bearer {key}"})
    response.raise_for_status()
    return int(response.json()["items"][0]["id"])


def screenshots(base: str, key: str, password: str, directory: Path, out: Path) -> None:
    shots = out / "screenshots"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=WIDE, locale="fi-FI", timezone_id="Europe/Helsinki")
        page = context.new_page()
        sign_in(page, base, password)
        shoot(page, shots / "situation-1920.png")
        page.goto(f"{base}/alerts/2")
        shoot(page, shots / "alert-1920.png")
        page.goto(f"{base}/situation/region/decide")
        page.check("input[name=level][value=tehostettu_valmius]")
        page.fill("#reason", "Perhonjokilaakson myrsky ja sähkökatkot laajenevat; koko maakunnan valmius tehostetaan.")
        page.click("form[action='/situation/region/decide'] button[type=submit]")
        shoot(page, shots / "decision-confirm-1920.png")
        page.goto(f"{base}/alerts/new")
        page.get_by_label("Alueturvan valmiusjohtoryhmä").check()
        page.fill("#title_fi", "Hälytysharjoitus")
        page.fill("#message_fi", "Kokoontuminen Teams-kokoukseen klo 14.")
        page.fill("#title_sv", "Larmövning")
        page.fill("#message_sv", "Möte i Teams kl. 14.")
        page.click("form[action='/alerts/new/preview'] button[type=submit]")
        shoot(page, shots / "confirm-1920.png")
        page.goto(f"{base}/drills/1")
        shoot(page, shots / "drill-1920.png")
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/")
        shoot(page, shots / "situation-390.png")
        recipient = str(a_recipient_of(base, key, 2))
        link = re.search(r"https?://\S+/ack/\S+", run(directory, "alert", "link", "2", recipient))
        assert link, "no acknowledgement link"
        page.goto(link.group(0))
        shoot(page, shots / "acknowledgement-390.png")
        browser.close()


def report_first_page(directory: Path, out: Path) -> None:
    pdf = directory / "raportti.pdf"
    run(directory, "drill", "report", "1", "--format", "pdf", "-o", str(pdf))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out / "report-first-page")],
        check=True,
    )
    print(f"wrote {(out / 'report-first-page.png').relative_to(ROOT)}")


def followup_metrics(directory: Path, out: Path) -> None:
    """The demo's follow-up by the agreement's metrics: its table, as the HTML shows it."""
    html = directory / "seuranta.html"
    year = time.localtime().tm_year
    run(directory, "followup", "--year", str(year), "--format", "html", "-o", str(html))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1200})
        page.goto(html.as_uri())
        page.locator("table.metrics").screenshot(path=str(out / "followup-metrics.png"))
        browser.close()
    print(f"wrote {(out / 'followup-metrics.png').relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alueturva-demo-") as name:
        directory = Path(name)
        process, key, password = start_demo(directory, arguments.port)
        try:
            readme_steps(directory)
            screenshots(f"http://127.0.0.1:{arguments.port}", key, password, directory, arguments.out)
            report_first_page(directory, arguments.out)
            followup_metrics(directory, arguments.out)
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
