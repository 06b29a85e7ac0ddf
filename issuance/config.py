"""Settings: one object, read from ISSUANCE_* environment variables and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "ISSUANCE_"
CONFIG_ENV = "ISSUANCE_CONFIG"
DEFAULT_CONFIG_FILE = "issuance.toml"


class ConfigError(ValueError):
    """A setting has a value the system cannot use."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the system; the defaults are the embedded ones."""

    data_dir: Path = Path("./var")
    # Keys live apart from the data (a copy of the data folder must not carry its keys):
    # empty means a sibling folder of the data folder named "<data folder>-keys".
    key_dir: str = ""
    # Signed audit checkpoints (empty: audit-checkpoints.jsonl in the key folder); keep a copy elsewhere.
    audit_checkpoint_file: str = ""
    # At most one checkpoint per process every this many seconds of audited writes (0: every commit).
    audit_checkpoint_seconds: int = 300
    # Where the audit chain and checkpoint keys live: 0600 files in the key folder, or the keystore.
    audit_keys: str = "file"
    database_url: str = ""
    redis_url: str = ""
    keystore: str = "software"
    keystore_path: str = ""
    pkcs11_library: str = "/usr/lib/softhsm/libsofthsm2.so"
    pkcs11_token: str = "issuance"
    # Secrets: from the environment (ISSUANCE_KEYSTORE_PASSPHRASE, ISSUANCE_PKCS11_PIN), never printed.
    keystore_passphrase: str = field(default="", repr=False)
    pkcs11_pin: str = field(default="", repr=False)
    # How long a print job follows its spooler job before leaving it to a later check.
    print_follow_seconds: float = 20.0
    site: str = "HQ"
    issuing_state: str = "UTO"
    min_age_years: int = 16
    lease_seconds: int = 300
    # Seconds between reconciler passes (workers, `issuance reconcile --every`, embedded queue).
    reconcile_every: int = 60
    # Registry failures of one application before it goes to a supervisor as REGISTRY_ERROR.
    validation_max_attempts: int = 5
    registry_url: str = ""
    registry_database_url: str = ""
    registry_timeout: float = 5.0
    registry_retries: int = 3
    registry_latency_ms: int = 0
    validate_batch_size: int = 250
    name_match_threshold: float = 0.85
    # Where a day starts and ends for reports (an IANA time zone name, e.g. "Asia/Amman").
    timezone: str = "UTC"
    # How often a running station writes its heartbeat; the operators' screen shows it offline
    # after three missed beats.
    station_heartbeat_seconds: float = 5.0
    extra: dict[str, Any] = field(default_factory=dict)
    # Hours an application may stay in one state before the dashboard marks it overdue
    # (per-state overrides: an `ageing_limits` table of state = hours).
    ageing_limit_hours: float = 24.0
    # Seconds between the dashboard's refreshes of its figures.
    dashboard_refresh_seconds: int = 15
    # A bearer token that lets a Prometheus scraper read /metrics without a session (empty: none).
    metrics_token: str = field(default="", repr=False)

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the embedded SQLite file under the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'issuance.db').as_posix()}"

    @property
    def effective_key_dir(self) -> Path:
        """Where key files live: ISSUANCE_KEY_DIR, else "<data folder>-keys" beside the data folder."""
        if self.key_dir:
            return Path(self.key_dir)
        data = self.data_dir.absolute()
        return data.with_name(f"{data.name}-keys")

    @property
    def effective_checkpoint_file(self) -> Path:
        """The append-only file of signed audit checkpoints."""
        if self.audit_checkpoint_file:
            return Path(self.audit_checkpoint_file)
        return self.effective_key_dir / "audit-checkpoints.jsonl"

    @property
    def effective_registry_database_url(self) -> str:
        """The reference registry's own database (embedded default: a SQLite file)."""
        if self.registry_database_url:
            return self.registry_database_url
        return f"sqlite:///{(self.data_dir / 'registry.db').as_posix()}"

    @property
    def effective_keystore_path(self) -> Path:
        """The software keystore file: the configured one, or keystore.json in the key folder."""
        return Path(self.keystore_path) if self.keystore_path else self.effective_key_dir / "keystore.json"

    @property
    def uses_embedded_queue(self) -> bool:
        """True when jobs run on fakeredis in-process rather than a real Redis."""
        return not self.redis_url


_KNOWN = {f.name: f for f in fields(Settings) if f.name != "extra"}
_CHOICES = {
    "keystore": {"software", "pkcs11"},
    "audit_keys": {"file", "keystore"},
}


def _kind_word(kind: object) -> str:
    return "whole number" if kind in ("int", int) else "number"


def _coerce(name: str, raw: Any) -> Any:
    kind = _KNOWN[name].type
    try:
        if kind in ("Path", Path):
            return Path(str(raw))
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: must be a {_kind_word(kind)}, got {raw!r}") from exc
    value = str(raw)
    allowed = _CHOICES.get(name)
    if allowed and value not in allowed:
        raise ConfigError(f"{name}: must be one of {sorted(allowed)}, got {value!r}")
    return value


def _from_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    section = data.get("issuance", data)
    return dict(section)


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build settings: defaults, then the TOML file, then environment variables (last wins)."""
    env = dict(os.environ) if env is None else env
    path = config_file or Path(env.get(CONFIG_ENV, DEFAULT_CONFIG_FILE))
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if path.is_file():
        for key, raw in _from_toml(path).items():
            if key in _KNOWN:
                values[key] = _coerce(key, raw)
            else:
                extra[key] = raw
    elif config_file is not None:
        raise ConfigError(f"config file {path} does not exist")
    for name in _KNOWN:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(name, raw)
    return replace(Settings(), **values, extra=extra)
