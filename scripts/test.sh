#!/usr/bin/env bash
# README command 2: install what the tests need, start the services, run lint, types and tests.
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_apt "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_venv "[test]"
ensure_web_assets
ensure_redis
ensure_postgres
if [ -x "$REPO/scripts/start-pcscd.sh" ] || [ -f "$REPO/scripts/start-pcscd.sh" ]; then
  bash "$REPO/scripts/start-pcscd.sh"
fi
cd "$REPO"
PACKAGES=(issuance enrollment personalization printing workers)
log "ruff"
"$VENV/bin/ruff" check "${PACKAGES[@]}" tests bench
log "mypy"
"$VENV/bin/mypy" "${PACKAGES[@]}"
log "pytest"
exec "$VENV/bin/pytest" -n 2 "$@"
