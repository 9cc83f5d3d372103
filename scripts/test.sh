#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, types, then the tests on PostgreSQL and on SQLite.
# Extra arguments go to pytest, e.g. `scripts/test.sh -k roster`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

bash scripts/services.sh
bash scripts/browser.sh

.venv/bin/ruff check .
.venv/bin/mypy alueturva contacts situation alerting drills actioncards

# Tests run in ALUETURVA_TEST_PROCESSES processes at once (pytest-xdist; default 2): each has its own database,
# private Redis servers and ports, and many tests spend their time waiting on the processes they start.
PROCESSES=${ALUETURVA_TEST_PROCESSES:-2}
echo "== tests on PostgreSQL =="
ALUETURVA_TEST_DB=postgresql .venv/bin/pytest -n "$PROCESSES" "$@"
echo "== tests on SQLite (the embedded default) =="
ALUETURVA_TEST_DB=sqlite .venv/bin/pytest -n "$PROCESSES" "$@"
