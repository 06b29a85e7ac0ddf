"""Personal data at rest: private files, keys apart from the data, a rotatable vault (points 13, 15)."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from issuance.biometrics import ImageMeta, load_biometric, store_biometric
from issuance.cli.main import main
from issuance.config import Settings
from issuance.db import Database
from issuance.keyfiles import KeyFileError, read_or_create
from issuance.models import AuditEvent, BiometricImage, BiometricKind, Role
from issuance.runtime import Runtime
from issuance.vault import KEY_ENV, Vault, VaultError
from tests.factories import TEST_PASSWORD, make_applications, make_user

IMAGE = b"\xff\xd8 a small clear face image \xff\xd9"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_embedded_files_are_private_and_keys_live_apart(tmp_path: Path) -> None:
    settings = replace(Settings(), data_dir=tmp_path / "var")
    rt = Runtime(settings)
    try:
        make_user(rt.db, "amal", Role.CLERK)
        rt.vault.seal(b"x", "ctx")
        key_dir = settings.effective_key_dir
        assert key_dir == tmp_path / "var-keys"
        assert _mode(settings.data_dir) == 0o700 and _mode(key_dir) == 0o700
        assert _mode(settings.data_dir / "issuance.db") == 0o600
        keys = sorted(p.name for p in key_dir.iterdir())
        assert {"audit-chain.key", "audit-checkpoint.pem", "biometric-current"} <= set(keys)
        assert all(_mode(p) == 0o600 for p in key_dir.iterdir())
        assert not any(p.suffix in (".key", ".pem", ".secret") for p in settings.data_dir.rglob("*"))
    finally:
        rt.close()


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k" / "some.key"
    read_or_create(path, lambda: b"k" * 32)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_or_create(path, lambda: b"other")


@pytest.mark.parametrize(("raw", "message"), [
    ("not base64 at all!", "not valid base64"),
    (base64.b64encode(b"short").decode(), "decodes to 5 bytes"),
])
def test_malformed_env_key_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: str, message: str,
) -> None:
    monkeypatch.setenv(KEY_ENV, raw)
    with pytest.raises(VaultError, match=message) as caught:
        Vault.from_settings(tmp_path)
    assert "\n" not in str(caught.value) and KEY_ENV in str(caught.value)


def test_no_plain_hash_of_an_image_in_the_database_or_the_log(db: Database, settings: Settings) -> None:
    clerk = make_user(db, "clerk1", Role.CLERK)
    [app_id] = make_applications(db, clerk)
    vault = Vault.from_settings(settings.effective_key_dir)
    with db.transaction() as s:
        store_biometric(s, vault, app_id, BiometricKind.PHOTO, IMAGE, ImageMeta("image/jpeg", 1, 1), "t")
    plain = hashlib.sha256(IMAGE).hexdigest()
    with db.session() as s:
        row = s.scalars(select(BiometricImage)).one()
        logged = " ".join(s.scalars(select(AuditEvent.details)))
    assert row.digest.startswith("hmac-sha256:") and plain not in row.digest and plain not in logged
    assert row.key_id == vault.key_id and Vault.sealed_with(row.ciphertext) == vault.key_id


def test_rotation_reseals_in_resumable_batches(db: Database, settings: Settings) -> None:
    clerk = make_user(db, "clerk1", Role.CLERK)
    make_user(db, "admin1", Role.ADMIN)
    ids = make_applications(db, clerk, count=5)
    old = Vault.from_settings(settings.effective_key_dir)
    with db.transaction() as s:
        for app_id in ids:
            store_biometric(s, old, app_id, BiometricKind.PHOTO, IMAGE + bytes([app_id]),
                            ImageMeta("image/jpeg", 1, 1), "t")
    env = {"ISSUANCE_DATABASE_URL": settings.database_url, "ISSUANCE_DATA_DIR": str(settings.data_dir),
           "ISSUANCE_AS": "admin1", "ISSUANCE_PASSWORD": TEST_PASSWORD}
    result = CliRunner().invoke(main, ["vault", "rotate", "--batch", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-sealed 5 images" in result.output and "0 left" in result.output
    new = Vault.from_settings(settings.effective_key_dir)
    assert new.key_id != old.key_id
    with db.session() as s:
        assert {r.key_id for r in s.scalars(select(BiometricImage))} == {new.key_id}
        assert load_biometric(s, new, ids[0], BiometricKind.PHOTO) == IMAGE + bytes([ids[0]])
        with pytest.raises(VaultError):  # the old key alone no longer opens the re-sealed copies
            load_biometric(s, Vault(_key_bytes(settings, old.key_id)), ids[0], BiometricKind.PHOTO)
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.actor == "admin1" and json.loads(last.details) == {"resealed": 5}
    again = CliRunner().invoke(main, ["vault", "rotate", "--resume"], env=env)
    assert "re-sealed 0 images" in again.output


def _key_bytes(settings: Settings, kid: str) -> bytes:
    return (settings.effective_key_dir / f"biometric-{kid}.key").read_bytes()
