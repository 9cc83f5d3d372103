#!/usr/bin/env bash
# Install and run the service in its embedded default (SQLite, in-process queue, console SMS/email) with the
# fictional demo roster, on http://127.0.0.1:8000 (API docs at /docs). Arguments go to `alueturva up`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .

.venv/bin/alueturva db upgrade
echo "An admin API key for this demo (shown once; use it as 'Authorization: Bearer <key>'):"
.venv/bin/alueturva apikey create --role admin --name "demo admin"
exec .venv/bin/alueturva up --demo "$@"
