#!/bin/sh
# Start pcscd with the vsmartcard-vpcd driver if it is not running, then wait
# until it answers PC/SC clients. Idempotent; safe to call from several test
# workers at once (DESIGN.md section 9: no udev here, so run it in the foreground
# mode detached from this shell).
set -eu

PYTHON="${PYTHON:-$(dirname "$0")/../.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
LOCK="${TMPDIR:-/tmp}/start-pcscd.lock"

ready() {
    "$PYTHON" - <<'PY' >/dev/null 2>&1
from smartcard.System import readers
import sys
sys.exit(0 if any("Virtual PCD" in str(r) for r in readers()) else 1)
PY
}

if ready; then
    exit 0
fi

(
    # Only one caller starts the daemon; the others wait on the lock and find it ready.
    flock 9
    if ! ready; then
        if ! pgrep -x pcscd >/dev/null 2>&1; then
            mkdir -p /run/pcscd
            setsid pcscd --foreground >/tmp/pcscd.log 2>&1 </dev/null &
        fi
        i=0
        while ! ready; do
            i=$((i + 1))
            if [ "$i" -gt 100 ]; then
                echo "start-pcscd: pcscd did not come up (see /tmp/pcscd.log)" >&2
                exit 1
            fi
            sleep 0.1
        done
    fi
) 9>"$LOCK"
