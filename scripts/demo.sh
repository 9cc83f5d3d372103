#!/usr/bin/env bash
# Install and run the service in its embedded default (SQLite, in-process queue, console SMS/email) with the
# fictional demo roster, on http://127.0.0.1:8000 (the web console at /, API docs at /docs). Arguments go to
# `alueturva up`, e.g. --port.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .

# `up` migrates the database and, on the first start, shows an admin API key and a web console account (with
# its password) in a box on the terminal (without a terminal: in ./alueturva-first-admin.txt, readable by you only):
# only then, so keep them.
exec .venv/bin/alueturva up --demo "$@"
