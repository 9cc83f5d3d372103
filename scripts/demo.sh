#!/usr/bin/env bash
# Install and run the service in its embedded default (SQLite, in-process queue, console SMS/email) with the
# fictional demo roster, on http://127.0.0.1:8000 (the web console at /, API docs at /docs). Arguments go to
# `alueturva up`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .

.venv/bin/alueturva db upgrade
echo "An admin API key for this demo (shown once; use it as 'Authorization: Bearer <key>'):"
.venv/bin/alueturva apikey create --role admin --name "demo admin"
# A web console account with a new password each run (shown once).
PASSWORD=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
if .venv/bin/alueturva user list | grep -q "admin@demo.example"; then
  printf '%s\n' "$PASSWORD" | .venv/bin/alueturva user password admin@demo.example >/dev/null
else
  printf '%s\n' "$PASSWORD" | .venv/bin/alueturva user create --role admin --email admin@demo.example \
    --name "Demo Admin" >/dev/null
fi
echo "Web console: http://127.0.0.1:8000/ - sign in as admin@demo.example with the password $PASSWORD"
exec .venv/bin/alueturva up --demo "$@"
