"""Both keystores, one test module: generate, derive SCP03 keys, sign, list, retire, never export."""

from __future__ import annotations

import hashlib
import inspect
import os
import stat
from dataclasses import replace
from pathlib import Path

import pkcs11
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pkcs11 import Attribute, ObjectClass
from pkcs11.exceptions import AttributeSensitive

from issuance.config import Settings
from issuance.keystore import (
    KeyExists,
    KeyKind,
    KeyNotFound,
    KeyRetired,
    Keystore,
    KeystoreError,
    Pkcs11Keystore,
    SoftwareKeystore,
    WrongKeyKind,
    fingerprint,
    open_keystore,
)
from issuance.keystore.base import Keystore as KeystorePort
from issuance.runtime import Runtime
from personalization.protocol.kdf import DIVERSIFY_ENC, diversify, diversify_keys
from tests.keys.conftest import SoftHsm

h = bytes.fromhex
# GlobalPlatformPro TestSCP03.testKDF3 (the vector tests/personalization/test_scp03_vectors.py uses).
GPPRO_MASTER = h("8C72C72CF908411653018807950D82FBAD947562F0828A0B10B8B9606ABF3BCD")
GPPRO_KDD = h("D9B1DE5D0362DEDCE4FB")
GPPRO_ENC = h("9AAC5D0B3601F89438A0D9D0B6B256CFB47E6462DFA5228D3420C4AC7C224781")


def test_derived_scp03_keys_match_the_reference_kdf(keystore: Keystore, label_prefix: str) -> None:
    label = label_prefix + "gppro"
    keystore.import_aes(label, GPPRO_MASTER)
    keys = keystore.derive_scp03(label, GPPRO_KDD)
    assert keys.enc == GPPRO_ENC
    assert keys == diversify_keys(GPPRO_MASTER, GPPRO_KDD)
    assert keys.mac != keys.enc and keys.dek not in (keys.enc, keys.mac)
    assert diversify(GPPRO_MASTER, DIVERSIFY_ENC, GPPRO_KDD) == keys.enc


def test_generated_aes_master_keys_derive_per_card(keystore: Keystore, label_prefix: str) -> None:
    for bits in (128, 256):
        label = f"{label_prefix}master-{bits}"
        info = keystore.generate_aes(label, bits)
        assert info.kind is (KeyKind.AES128 if bits == 128 else KeyKind.AES256)
        one, two = keystore.derive_scp03(label, b"card-1"), keystore.derive_scp03(label, b"card-2")
        assert len(one.enc) == bits // 8 and one != two
        assert keystore.derive_scp03(label, b"card-1") == one


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_sign_and_verify_with_cryptography(keystore: Keystore, label_prefix: str, kind: str) -> None:
    label = label_prefix + kind
    info = keystore.generate_ec_p256(label) if kind == "ec" else keystore.generate_rsa3072(label)
    data = b"EF.SOD content " * 50
    signature = keystore.sign(label, data)
    public = keystore.public_key(label)
    if isinstance(public, ec.EllipticCurvePublicKey):
        assert info.kind is KeyKind.EC_P256 and public.curve.name == "secp256r1"
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        assert info.kind is KeyKind.RSA3072 and public.key_size == 3072
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        public.verify(signature, data, pss, hashes.SHA256())
    with pytest.raises(InvalidSignature):
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data + b"x", padding.PSS(padding.MGF1(hashes.SHA256()), 32),
                          hashes.SHA256())
        else:
            public.verify(signature, data + b"x", ec.ECDSA(hashes.SHA256()))


def test_list_keys_shows_label_kind_and_creation(keystore: Keystore, label_prefix: str) -> None:
    keystore.generate_aes(label_prefix + "m")
    keystore.generate_ec_p256(label_prefix + "ds")
    mine = {k.label: k for k in keystore.list_keys() if k.label.startswith(label_prefix)}
    assert {k: v.kind for k, v in mine.items()} == {
        label_prefix + "m": KeyKind.AES128, label_prefix + "ds": KeyKind.EC_P256}
    assert all(v.created.year >= 2024 and not v.retired for v in mine.values())


def test_retired_keys_refuse_use_but_remain(keystore: Keystore, label_prefix: str) -> None:
    ds, master = label_prefix + "ds", label_prefix + "m"
    keystore.generate_ec_p256(ds)
    keystore.generate_aes(master)
    public = keystore.public_key(ds)
    keystore.retire(ds)
    keystore.retire(master)
    with pytest.raises(KeyRetired, match="retired"):
        keystore.sign(ds, b"data")
    with pytest.raises(KeyRetired, match="retired"):
        keystore.derive_scp03(master, b"kdd")
    assert keystore.public_key(ds).public_numbers() == public.public_numbers()
    assert keystore.info(ds).retired


def test_bad_requests_name_the_cause(keystore: Keystore, label_prefix: str) -> None:
    keystore.generate_aes(label_prefix + "m")
    with pytest.raises(KeyExists, match="exists already"):
        keystore.generate_ec_p256(label_prefix + "m")
    with pytest.raises(KeyNotFound, match="no key labelled"):
        keystore.sign(label_prefix + "absent", b"x")
    with pytest.raises(WrongKeyKind):
        keystore.sign(label_prefix + "m", b"x")
    with pytest.raises(KeystoreError, match="label"):
        keystore.generate_aes("Bad Label!")
    with pytest.raises(KeystoreError, match="bits"):
        keystore.generate_aes(label_prefix + "x", 192)
    with pytest.raises(KeystoreError, match="kdd"):
        keystore.derive_scp03(label_prefix + "m", b"")


def test_no_export_in_the_port() -> None:
    """The port offers no call that returns private or secret key material."""
    methods = {name for name, _ in inspect.getmembers(KeystorePort, inspect.isfunction)}
    assert not {m for m in methods if any(w in m for w in ("export", "private", "secret", "wrap", "value"))}
    for name in methods:
        annotation = str(inspect.signature(getattr(KeystorePort, name)).return_annotation)
        assert "Private" not in annotation


def test_pkcs11_attributes_of_keys_cannot_be_read(softhsm: SoftHsm, label_prefix: str) -> None:
    store = Pkcs11Keystore(softhsm.library, softhsm.token, softhsm.pin)
    try:
        store.generate_aes(label_prefix + "m")
        store.generate_ec_p256(label_prefix + "ec")
        store.generate_rsa3072(label_prefix + "rsa")
        # A session of our own on the same token, outside the keystore class (logged in already:
        # PKCS#11 login is per application).
        token = pkcs11.lib(softhsm.library).get_token(token_label=softhsm.token)
        with token.open() as session:
            secret = session.get_key(ObjectClass.SECRET_KEY, label=label_prefix + "m")
            ec_key = session.get_key(ObjectClass.PRIVATE_KEY, label=label_prefix + "ec")
            rsa_key = session.get_key(ObjectClass.PRIVATE_KEY, label=label_prefix + "rsa")
            for obj, attr in ((secret, Attribute.VALUE), (ec_key, Attribute.VALUE),
                              (rsa_key, Attribute.PRIVATE_EXPONENT), (rsa_key, Attribute.PRIME_1)):
                with pytest.raises(AttributeSensitive):
                    obj[attr]
                assert obj[Attribute.SENSITIVE] and not obj[Attribute.EXTRACTABLE]
    finally:
        for suffix in ("m", "ec", "rsa"):
            store.destroy(label_prefix + suffix)
        store.close()


def test_software_keystore_file_is_encrypted_and_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "store.json"
    store = SoftwareKeystore(path, "pass phrase", create=True)
    store.import_aes("m", GPPRO_MASTER)
    raw = path.read_bytes()
    assert GPPRO_MASTER not in raw and GPPRO_MASTER.hex().encode() not in raw.lower()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SoftwareKeystore(path, "pass phrase").derive_scp03("m", GPPRO_KDD).enc == GPPRO_ENC


def test_software_keystore_refuses_wider_mode(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    SoftwareKeystore(path, "pass phrase", create=True)
    os.chmod(path, 0o644)
    with pytest.raises(KeystoreError, match=r"mode 0644 is too open; must be 0600"):
        SoftwareKeystore(path, "pass phrase")


def test_software_keystore_wrong_passphrase_and_tampering(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    SoftwareKeystore(path, "right", create=True).generate_ec_p256("ds")
    with pytest.raises(KeystoreError) as err:
        SoftwareKeystore(path, "wrong")
    assert "wrong passphrase" in str(err.value) and "\n" not in str(err.value)
    data = bytearray(path.read_bytes())
    data[-10] = ord("A") if data[-10] != ord("A") else ord("B")
    path.write_bytes(bytes(data))
    with pytest.raises(KeystoreError, match="wrong passphrase|not a keystore"):
        SoftwareKeystore(path, "right")
    with pytest.raises(KeystoreError, match="does not exist"):
        SoftwareKeystore(tmp_path / "absent.json", "right")
    with pytest.raises(KeystoreError, match="no passphrase"):
        SoftwareKeystore(path, "")


def test_two_processes_share_the_software_file(tmp_path: Path) -> None:
    path = tmp_path / "store.json"
    first = SoftwareKeystore(path, "p", create=True)
    second = SoftwareKeystore(path, "p")
    first.generate_aes("a")
    second.generate_aes("b")  # re-reads under the lock: "a" survives
    assert {k.label for k in SoftwareKeystore(path, "p").list_keys()} == {"a", "b"}


def _pkcs11(softhsm: SoftHsm, **changes: str) -> Settings:
    base = replace(Settings(), keystore="pkcs11", pkcs11_library=softhsm.library,
                   pkcs11_token=softhsm.token, pkcs11_pin=softhsm.pin)
    return replace(base, **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"pkcs11_token": "no-such-token"}, "PKCS#11 token 'no-such-token': token not found"),
    ({"pkcs11_pin": "999999"}, "PKCS#11 token 'issuance-test': wrong PIN"),
    ({"pkcs11_pin": ""}, "no PIN"),
    ({"pkcs11_library": "/nonexistent/libpkcs11.so"}, "library /nonexistent/libpkcs11.so: file not found"),
    ({"pkcs11_token": "issuance-locked"}, "PIN locked"),
])
def test_pkcs11_errors_are_one_line(softhsm: SoftHsm, changes: dict[str, str], message: str) -> None:
    for logged_in in (False, True):  # also while another keystore of this process is logged in
        good = open_keystore(_pkcs11(softhsm))
        if logged_in:
            good.list_keys()
        with pytest.raises(KeystoreError) as err:
            open_keystore(_pkcs11(softhsm, **changes)).list_keys()
        assert message in str(err.value) and "\n" not in str(err.value)
        good.close()


def test_pkcs11_session_is_reopened_after_fork(softhsm: SoftHsm, label_prefix: str) -> None:
    store = Pkcs11Keystore(softhsm.library, softhsm.token, softhsm.pin)
    store.generate_ec_p256(label_prefix + "ds")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child signs through its own session, as an rq job would
        try:
            os.write(write, store.sign(label_prefix + "ds", b"forked"))
        finally:
            os._exit(0)
    os.close(write)
    signature = os.read(read, 200)
    os.waitpid(pid, 0)
    store.public_key(label_prefix + "ds").verify(signature, b"forked", ec.ECDSA(hashes.SHA256()))
    store.destroy(label_prefix + "ds")
    store.close()


def test_fingerprint_is_sha256_of_spki(keystore: Keystore, label_prefix: str) -> None:
    keystore.generate_ec_p256(label_prefix + "k")
    public = keystore.public_key(label_prefix + "k")
    spki = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert fingerprint(public) == hashlib.sha256(spki).hexdigest()


def test_runtime_opens_the_configured_keystore(keystore_settings: Settings, label_prefix: str) -> None:
    open_keystore(keystore_settings, create=True).close()
    rt = Runtime(keystore_settings, check_schema=False)
    try:
        rt.keystore.generate_ec_p256(label_prefix + "rt")
        assert rt.keystore.info(label_prefix + "rt").kind is KeyKind.EC_P256
        rt.keystore.destroy(label_prefix + "rt")
    finally:
        rt.close()
    assert "keystore" in rt.__dict__


def test_pkcs11_changes_by_another_client_are_seen(softhsm: SoftHsm, label_prefix: str) -> None:
    """Cached handles never hide a key retired or destroyed through another session."""
    label = label_prefix + "ds"
    first = Pkcs11Keystore(softhsm.library, softhsm.token, softhsm.pin)
    other = Pkcs11Keystore(softhsm.library, softhsm.token, softhsm.pin)
    try:
        first.generate_ec_p256(label)
        first.sign(label, b"cached")
        other.retire(label)
        with pytest.raises(KeyRetired):
            first.sign(label, b"after retirement elsewhere")
        other.destroy(label)
        with pytest.raises(KeystoreError):
            first.sign(label, b"after destruction elsewhere")
        other.generate_ec_p256(label)
        signature = first.sign(label, b"a new key under the old label")
        first.public_key(label).verify(signature, b"a new key under the old label", ec.ECDSA(hashes.SHA256()))
    finally:
        other.destroy(label)
        first.close()
        other.close()
