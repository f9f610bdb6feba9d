#!/usr/bin/env bash
# One command for a fresh Debian machine (as root): set up, create the demo village, serve it.
#   scripts/demo.sh [--host 127.0.0.1] [--port 5000]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WORKSPACE_DATA_DIR=${WORKSPACE_DATA_DIR:-$PWD/data}
exec .venv/bin/workspace demo "$@"
