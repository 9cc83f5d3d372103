"""Browser tests: Playwright drives Debian's Chromium against the service started once per test session on
loopback (`alueturva up`, the embedded default: API, worker and scheduler in one process) on a database of its own
(SQLite or PostgreSQL, as ALUETURVA_TEST_DB says), with the demo roster and its past drill, a situation posted
through the API and three accounts. Screenshots go to ``build/screenshots`` (override with ALUETURVA_SCREENSHOT_DIR)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import create_engine, text

from alueturva.auth.models import Role
from loopback.ports import free_port
from loopback.processes import REPO_ROOT, EmbeddedServer, alueturva_command, service_env
from tests.conftest import BACKEND, PG_ADMIN_URL

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("ALUETURVA_SCREENSHOT_DIR", REPO_ROOT / "build" / "screenshots"))


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    name: str


ACCOUNTS = {
    Role.operator: Account("paivystaja@example.fi", "operator-password-0303", "Olli Päivystäjä"),
    Role.viewer: Account("katselija@example.fi", "viewer-password-0303", "Veera Katselija"),
    Role.admin: Account("yllapito@example.fi", "admin-password-0303", "Aino Ylläpitäjä"),
}


@dataclass(frozen=True)
class LiveService:
    url: str
    api_key: str  # an admin key, for reading what the pages did through the API
    env: dict[str, str]

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``alueturva ARGS`` against the service's database; its standard output."""
        done = subprocess.run(
            alueturva_command(*args),
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO_ROOT,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture(scope="session")
def live_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('web') / 'alueturva.db'}"
        return
    name = f"alueturva_web_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prepare(database_url: str) -> str:
    """Migrate, load the demo roster and its past drill, and make the accounts; an admin API key."""
    from alueturva.app.wiring import prepare_database
    from alueturva.auth.service import SYSTEM, create_api_key
    from alueturva.auth.users import create_user
    from alueturva.db import Database, set_database
    from contacts.demo import load_demo_roster
    from drills.demo import load_demo_drill

    prepare_database(database_url)
    database = Database(database_url)
    try:
        set_database(database)
        load_demo_roster()
        with database.session() as session:
            for role in (Role.viewer, Role.admin):  # the operator is made with the command line, as people do
                account = ACCOUNTS[role]
                create_user(
                    session, email=account.email, name=account.name, role=role, password=account.password, actor=SYSTEM
                )
            _, key = create_api_key(session, name="browser tests", role=Role.admin, created_by=SYSTEM)
        load_demo_drill()
    finally:
        set_database(None)
        database.dispose()
    return key


@pytest.fixture(scope="session")
def live_service(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    from tests.browser.seed import seed_situation

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_env(
        database_url=live_database,
        extra={
            "ALUETURVA_PUBLIC_BASE_URL": url,
            "ALUETURVA_SECRET_KEY": "browser-test-secret-key-that-is-long-enough-0123456789",
            "ALUETURVA_SMS_BACKEND": "console",
            "ALUETURVA_EMAIL_BACKEND": "console",
        },
    )
    env.pop("ALUETURVA_REDIS_URL", None)
    key = _prepare(live_database)
    service = LiveService(url, key, env)
    operator = ACCOUNTS[Role.operator]
    service.cli(
        "user",
        "create",
        "--role",
        "operator",
        "--email",
        operator.email,
        "--name",
        operator.name,
        stdin=operator.password + "\n",
    )
    server = EmbeddedServer(env, tmp_path_factory.mktemp("web-log") / "up.log", port=port).start()
    try:
        seed_situation(url, key)
        yield service
    finally:
        server.terminate(timeout=10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    assert CHROMIUM.exists(), "Chromium is missing: scripts/services.sh installs it (Debian package chromium)"
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def base_url(live_service: LiveService) -> str:
    return live_service.url


def sign_in(page: Page, base_url: str, role: Role) -> None:
    account = ACCOUNTS[role]
    page.goto(f"{base_url}/login")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def check_accessibility(page: Page) -> None:
    """axe-core (bundled with axe-playwright-python) on the page as it is: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{page.url}: " + "; ".join(bad)


def check_page(page: Page, name: str) -> Path:
    """axe-core finds nothing serious, nothing is wider than the screen (no sideways scrolling at 390 px), and a
    screenshot is kept."""
    check_accessibility(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the screen"
    return screenshot(page, name)


def screenshot(page: Page, name: str) -> Path:
    """Keep a picture of the page as a test artefact: ``<name>-<width>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
