#!/bin/sh
# Start pcscd with the vsmartcard-vpcd driver if it is not running, then wait
# until it answers PC/SC clients with the two "Virtual PCD" readers. Idempotent;
# safe to call from several test workers at once. Without udev or systemd here
# (DESIGN.md section 9) pcscd runs in foreground mode, detached from this shell.
set -eu

PYTHON="${PYTHON:-$(dirname "$0")/../.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
LOCK="${TMPDIR:-/tmp}/start-pcscd.lock"
LOG="${TMPDIR:-/tmp}/pcscd.log"

ready() {
    "$PYTHON" - <<'PY' >/dev/null 2>&1
import sys
from smartcard.System import readers
sys.exit(0 if any("Virtual PCD" in str(r) for r in readers()) else 1)
PY
}

alive() {
    # A killed pcscd can linger as a zombie when nothing reaps it; that one does not count.
    for pid in $(pgrep -x pcscd 2>/dev/null); do
        case "$(ps -o stat= -p "$pid" 2>/dev/null)" in
            Z*|"") ;;
            *) return 0 ;;
        esac
    done
    return 1
}

if ready; then
    exit 0
fi

(
    # One caller starts the daemon; the others wait on the lock and find it ready.
    flock 9
    i=0
    until ready; do
        if ! alive; then
            mkdir -p /run/pcscd
            # Leftovers of a dead daemon make a new one think it is already running.
            rm -f /run/pcscd/pcscd.pid /run/pcscd/pcscd.comm
            # 9>&-: the daemon must not inherit (and hold) our lock.
            setsid pcscd --foreground >"$LOG" 2>&1 </dev/null 9>&- &
        fi
        i=$((i + 1))
        if [ "$i" -gt 100 ]; then
            echo "start-pcscd: pcscd did not come up (see $LOG)" >&2
            exit 1
        fi
        sleep 0.1
    done
) 9>"$LOCK"
