#!/usr/bin/env bash
# Create (or refresh) bench/.venv with the original design's pinned stack from PyPI.
#
#   bench/original/setup.sh
#
# Environment knobs (all optional):
#   PYTHON   the Python 3.10+ interpreter to build the venv with   (default python3)
set -euo pipefail

PYTHON="${PYTHON:-python3}"
ORIGINAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$ORIGINAL_DIR/../.venv"

die() {
    echo "bench/original/setup: FAIL: $*" >&2
    exit 1
}
log() { echo "bench/original/setup: $*" >&2; }

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is not installed"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$PYTHON is older than 3.10"

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV" || die "python -m venv failed (Debian: apt-get install -y python3-venv)"
fi
log "installing bench/original/requirements.txt into $VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ORIGINAL_DIR/requirements.txt" ||
    die "pip install failed"
"$VENV/bin/python" -c 'import fastapi, sqlmodel, jwt, psycopg, uvicorn' || die "the venv cannot import the stack"
log "ready: $VENV"
