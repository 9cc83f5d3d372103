#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (tests/browser: Playwright drives
# /usr/bin/chromium; Playwright's own browser download is never used). Used by scripts/test.sh and .ci/run.
# Needs root or sudo only when Chromium must be installed.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

if [ -x /usr/bin/chromium ]; then
  echo "Chromium is installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
else
  echo "Chromium is missing; installing the Debian package"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
