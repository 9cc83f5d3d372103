#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on loopback, installing (Debian packages) and starting them if they do not,
# and that the system libraries of the PDF reports are there.
# Used by scripts/test.sh and .ci/run. Needs root or sudo only when something must be installed or started.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
APT_UPDATED=""

apt_install() {
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

wait_for() {  # wait_for SECONDS COMMAND...
  local seconds=$1; shift
  for _ in $(seq 1 "$seconds"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  "$@"
}

postgres_answers() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; }

ensure_postgres() {
  if postgres_answers; then echo "PostgreSQL answers on 127.0.0.1:5432"; else
    echo "PostgreSQL does not answer; starting it"
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
      apt_install postgresql postgresql-client
      local hba; hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -1)
      # A developer/CI database on loopback only: trust, as the test suite expects.
      $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    wait_for 30 postgres_answers
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname='test'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null
  fi
}

ensure_redis() {
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then echo "Redis answers on 127.0.0.1:6379"; return; fi
  echo "Redis does not answer; starting it"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for 30 sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'
}

# WeasyPrint (the reports' PDF) needs Pango, and fonts with Finnish and Swedish letters.
ensure_pdf_libraries() {
  if ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 && fc-list 2>/dev/null | grep -qi dejavu; then
    echo "Pango and DejaVu fonts are installed (PDF reports)"; return
  fi
  echo "Installing Pango and fonts for PDF reports"
  apt_install libpango-1.0-0 libpangoft2-1.0-0 fontconfig fonts-dejavu-core
}

command -v psql >/dev/null 2>&1 || apt_install postgresql-client
ensure_postgres
ensure_redis
ensure_pdf_libraries
