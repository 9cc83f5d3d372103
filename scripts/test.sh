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

echo "== tests on PostgreSQL =="
ALUETURVA_TEST_DB=postgresql .venv/bin/pytest "$@"
echo "== tests on SQLite (the embedded default) =="
ALUETURVA_TEST_DB=sqlite .venv/bin/pytest "$@"
