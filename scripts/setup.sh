#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh on Debian (run as root).
# Installs what is missing, creates .venv and installs the project into it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
want() { dpkg -s "$1" >/dev/null 2>&1 || need_apt+=("$1"); }

# Python 3.11+ with venv, and the Japanese font the 起案用紙 PDF embeds.
want python3; want python3-venv; want python3-pip; want fonts-ipaexfont
if [ "${WORKSPACE_SETUP_TESTS:-0}" = 1 ]; then
  # Real components of the test suite: a private slapd, Chromium, PDF tools, PostgreSQL, Redis.
  want slapd; want ldap-utils; want chromium; want poppler-utils
  have pg_ctlcluster || want postgresql
  have redis-server || want redis-server
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is required"'
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extras=""
[ "${WORKSPACE_SETUP_TESTS:-0}" = 1 ] && extras="[dev]"
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".${extras}"
