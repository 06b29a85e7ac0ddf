# Shared steps for the README commands: Debian packages, the virtualenv, local services.
# Sourced, not run. Every step is idempotent and quiet when there is nothing to do.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"

# What the system needs to build and run the product (pyscard compiles against pcsclite).
RUNTIME_PACKAGES=(python3 python3-venv python3-dev gcc swig libpcsclite-dev libpcsclite1
                  libfribidi0 fonts-noto-core fonts-ocr-b tesseract-ocr tesseract-ocr-eng
                  cups-client cups-ipp-utils)
# What the test suite adds: the real services the tests talk to.
TEST_PACKAGES=(pcscd vsmartcard-vpcd pcsc-tools opensc softhsm2 openssl cups printer-driver-cups-pdf
               poppler-utils chromium redis-server postgresql zbar-tools)

log() { printf '==> %s\n' "$*" >&2; }

ensure_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages (run as root to install): ${missing[*]}"
    return 1
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  local extras="$1" stamp="$VENV/.installed-$1"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local want
  want="$(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python packages into $VENV ($extras)"
    # pip and setuptools talk a lot; keep it in a log unless something fails.
    if ! { "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip &&
           "$VENV/bin/pip" install -q --disable-pip-version-check -e "$REPO$extras"; } \
         >"$VENV/install.log" 2>&1; then
      cat "$VENV/install.log" >&2
      log "installing Python packages failed"; return 1
    fi
    echo "$want" > "$stamp"
  fi
}

ensure_redis() {
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return 0
  log "starting redis-server on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "redis did not start"; return 1
}

ensure_postgres() {
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    log "starting PostgreSQL"
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 100); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.1; done
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1 && return 0
  # A fresh Debian cluster asks for passwords on TCP; the tests expect trust on loopback.
  log "allowing trust authentication for 127.0.0.1 (test machine)"
  local hba
  hba="$(su postgres -c "psql -Atc 'show hba_file'")"
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  su postgres -c "psql -Atc 'select pg_reload_conf()'" >/dev/null
}
