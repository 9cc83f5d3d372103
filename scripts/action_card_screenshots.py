"""Take the action cards' screenshots from the demo as a newcomer gets it: a fresh directory, `alueturva up --demo`
(the storm card in use in Perhonjokilaakso, partly done), then a card activated by hand so that one person's message
and its phone page exist; headless Chromium at 1920 and 390 px.

    .venv/bin/python scripts/action_card_screenshots.py [--port 8766] [--out docs/screenshots]

Needs /usr/bin/chromium (scripts/browser.sh). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright
from readme_screenshots import ALUETURVA, CHROMIUM_ARGS, PHONE, ROOT, WIDE, shoot, sign_in, start_demo


def run_wide(directory: Path, *args: str) -> str:
    """A command's output on a terminal wide enough that no link is cut."""
    done = subprocess.run(
        [ALUETURVA, *args], cwd=directory, capture_output=True, text=True, check=True,
        env={**os.environ, "COLUMNS": "1000"},
    )  # fmt: skip
    return done.stdout


def activate_by_hand(base: str, key: str) -> int:
    body = {"card": "vesihuolto-tehostettu", "area": "kaustinen"}
    answer = httpx.post(f"{base}/api/v1/activations", json=body, headers={"Authorization": f"Bearer {key}"})
    answer.raise_for_status()
    return int(answer.json()["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        process, key, password = start_demo(directory, arguments.port)
        base = f"http://127.0.0.1:{arguments.port}"
        try:
            activate_by_hand(base, key)
            link = None
            for _ in range(30):
                outbox = run_wide(directory, "outbox", "--limit", "40")
                link = re.search(r"https?://\S+/tasks/[A-Za-z0-9_.\-]+", outbox)
                if link:
                    break
                time.sleep(1)
            assert link, f"no task link in the outbox: {outbox}"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                context = browser.new_context(viewport=WIDE, locale="fi-FI", timezone_id="Europe/Helsinki")
                page = context.new_page()
                sign_in(page, base, password)
                page.goto(f"{base}/activations")
                shoot(page, arguments.out / "action-cards-1920.png")
                page.goto(f"{base}/activations/1")
                shoot(page, arguments.out / "task-board-1920.png")
                page.set_viewport_size(PHONE)
                shoot(page, arguments.out / "task-board-390.png")
                page.goto(link.group(0))
                shoot(page, arguments.out / "task-page-390.png")
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
