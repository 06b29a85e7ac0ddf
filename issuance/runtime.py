"""What a process needs to work: settings, the database and the biometric vault, opened lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import make_url

from issuance import migrate
from issuance.audit_checkpoints import AuditAnchor, CheckpointLog
from issuance.audit_keys import AuditKeys, FileAuditKeys, KeystoreAuditKeys
from issuance.config import Settings, load_settings
from issuance.db import Database
from issuance.keyfiles import private_dir
from issuance.keystore import Keystore, open_keystore
from issuance.registry.client import HttpRegistry, InProcessRegistry, Registry
from issuance.registry.store import RegistryStore
from issuance.vault import Vault


def audit_anchor(settings: Settings) -> AuditAnchor:
    """The audit keys and checkpoint file these settings name."""
    keys: AuditKeys = (KeystoreAuditKeys(open_keystore(settings, create=True), create=True)
                       if settings.audit_keys == "keystore" else FileAuditKeys(settings.effective_key_dir))
    log = CheckpointLog(settings.effective_checkpoint_file, keys)
    return AuditAnchor(keys, log, settings.audit_checkpoint_seconds)


class SchemaNotReady(RuntimeError):
    """The database is not at the newest schema revision."""


@dataclass
class Runtime:
    """Opened after any fork (rq forks per job): engines are never shared across processes."""

    settings: Settings = field(default_factory=load_settings)
    # Worker children skip the check: their parent made it once at start.
    check_schema: bool = True

    @cached_property
    def db(self) -> Database:
        url = self.settings.effective_database_url
        # The data folder holds personal data (the embedded database, registry, spool): owner only.
        private_dir(self.settings.data_dir)
        if self.check_schema:
            self.ensure_schema()
        return Database(url, audit_anchor(self.settings))

    def ensure_schema(self) -> None:
        """Refuse a database behind the code's schema; migrate the embedded SQLite one."""
        url = self.settings.effective_database_url
        head = migrate.head_revision()
        if migrate.current(url) != head:
            if make_url(url).get_backend_name() != "sqlite":
                raise SchemaNotReady(
                    f"database schema is not at revision {head}: run `issuance db upgrade`"
                )
            # The embedded default should just work on a fresh machine.
            migrate.upgrade(url)

    @cached_property
    def registry(self) -> Registry:
        """The civil registry: the HTTP service when configured, else the reference one in-process."""
        s = self.settings
        if s.registry_url:
            return HttpRegistry(s.registry_url, timeout=s.registry_timeout, retries=s.registry_retries)
        store = RegistryStore(s.effective_registry_database_url, create=self.check_schema)
        return InProcessRegistry(store, s.registry_latency_ms)

    @cached_property
    def keystore(self) -> Keystore:
        """The configured keystore; a PKCS#11 session opens on first use, in this process."""
        return open_keystore(self.settings)

    @cached_property
    def vault(self) -> Vault:
        return Vault.from_settings(self.settings.effective_key_dir)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
        if "keystore" in self.__dict__:
            self.keystore.close()
        registry = self.__dict__.get("registry")
        if isinstance(registry, InProcessRegistry):
            registry.store.close()
        elif isinstance(registry, HttpRegistry):
            registry.close()
