#!/usr/bin/env bash
# README command 1: the main job on embedded defaults (SQLite, in-process queue, software
# keystore, virtual card, PDF output). Extra arguments go to `issuance demo`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_apt "${RUNTIME_PACKAGES[@]}"
ensure_venv ""
ensure_web_assets
cd "$REPO"
exec "$VENV/bin/issuance" demo "$@"
