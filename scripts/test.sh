#!/usr/bin/env bash
# One command for a fresh Debian machine (as root): set up, start what the tests need, run the
# whole suite on SQLite and again on PostgreSQL, plus ruff. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKSPACE_SETUP_TESTS=1 bash scripts/setup.sh

# PostgreSQL: start the cluster if it is installed but stopped; give the tests a password role
# (a fresh Debian install does not trust local TCP connections).
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ws_test') THEN
    CREATE ROLE ws_test LOGIN CREATEDB PASSWORD 'ws_test';
  END IF;
END $$;
SQL
export WORKSPACE_TEST_PG_ADMIN="postgresql+psycopg://ws_test:ws_test@127.0.0.1:5432/postgres"

# Redis: start it if it is installed but stopped (it keeps nothing on disk for the tests).
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/workspace-tests.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

echo "== ruff"
.venv/bin/ruff check .
echo "== pytest on SQLite"
WORKSPACE_TEST_DB=sqlite .venv/bin/python -m pytest -q "$@"
echo "== pytest on PostgreSQL"
WORKSPACE_TEST_DB=postgresql .venv/bin/python -m pytest -q "$@"
