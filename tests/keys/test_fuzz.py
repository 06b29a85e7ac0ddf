"""Fuzzing every input path of the keystore and of `issuance pki`: a clear error, never a crash."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuance.cli.main import main
from issuance.config import Settings
from issuance.keystore import Keystore, KeystoreError, SoftwareKeystore
from issuance.keystore.base import check_label
from tests.keys.conftest import env_of

ALPHABET = string.printable + "é中\u202e\x00"


def _mutations(valid: bytes, rng: random.Random) -> list[bytes]:
    body = json.loads(valid)
    out = []
    for _ in range(120):  # bit flips, truncations, splices
        data = bytearray(valid)
        choice = rng.randrange(3)
        if choice == 0:
            at = rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
        elif choice == 1:
            del data[rng.randrange(len(data)):]
        else:
            at = rng.randrange(len(data))
            data[at:at] = rng.randbytes(rng.randrange(1, 20))
        out.append(bytes(data))
    junk: list[object] = [None, 0, -1, 2**64, "", "AAAA", [], {}, True, 1.5, "n" * 300]
    for field in ("format", "kdf", "nonce", "ciphertext"):
        for value in junk:
            out.append(json.dumps({**body, field: value}).encode())
    for field in ("name", "salt", "n", "r", "p"):
        for value in [*junk, 2**40, 3, 2**21]:
            out.append(json.dumps({**body, "kdf": {**body["kdf"], field: value}}).encode())
    return out


def test_software_keystore_file_fuzz(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    SoftwareKeystore(path, "p", create=True).generate_ec_p256("ds")
    valid = path.read_bytes()
    rng = random.Random(11)
    failures = 0
    for data in _mutations(valid, rng):
        path.write_bytes(data)
        try:
            SoftwareKeystore(path, "p")
        except KeystoreError as exc:
            assert "\n" not in str(exc) and str(path) in str(exc)
            failures += 1
    assert failures >= 150  # nearly every mutation is refused, each with a one-line error


def test_labels_and_kdd_fuzz(keystore: Keystore, label_prefix: str) -> None:
    rng = random.Random(5)
    keystore.generate_aes(label_prefix + "m")
    for _ in range(200):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 70)))
        try:
            assert check_label(text) == text
        except KeystoreError as exc:
            assert str(exc).startswith("label ")
        kdd = rng.randbytes(rng.randrange(0, 40))
        try:
            keys = keystore.derive_scp03(label_prefix + "m", kdd)
            assert 1 <= len(kdd) <= 32 and len(keys.enc) == 16
        except KeystoreError as exc:
            assert str(exc).startswith("kdd: ") and not 1 <= len(kdd) <= 32


@pytest.mark.parametrize("keystore_kind", ["software"])
def test_pki_cli_input_fuzz(pki_settings: Settings) -> None:
    env = env_of(pki_settings)
    init = CliRunner().invoke(main, ["pki", "init", "--state", "UTO", "--admin", "alice", "--admin", "bob"],
                              env=env)
    assert init.exit_code == 0, init.output
    rng = random.Random(23)

    def word() -> str:
        return "".join(rng.choice(ALPHABET.replace("\x00", "")) for _ in range(rng.randrange(0, 50)))

    seen: set[int] = set()
    for _ in range(25):
        for args in (["pki", "init", "--state", word(), "--admin", "alice", "--admin", "bob"],
                     ["pki", "init", "--state", "UTO", "--organization", word(), "--admin", word(),
                      "--admin", "bob"],
                     ["pki", "revoke", "--reason", "superseded", "--admin", "alice", "--", word()],
                     ["pki", "retire", "--admin", "alice", "--", word()],
                     ["pki", "issue-master-key", "--label", word(), "--admin", "alice"],
                     ["pki", "status", "--within-days", word()],
                     ["pki", "status", "--within-days", str(rng.randrange(-10**9, 10**9))]):
            result = CliRunner().invoke(main, args, env=env)
            assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.output)
            assert result.exit_code in (0, 1, 2), (args, result.output)
            seen.add(result.exit_code)
            if result.exit_code == 1:
                assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1
    assert seen == {0, 1, 2}  # status succeeds, bad values are refused, bad options are usage errors
