"""The keystore on a PKCS#11 token (python-pkcs11; SoftHSM2 in tests): keys sensitive, non-extractable."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pkcs11 import MGF, Attribute, KeyType, ObjectClass, TokenFlag
from pkcs11 import Mechanism as P11Mechanism
from pkcs11 import exceptions as p11e
from pkcs11.util.ec import encode_ec_public_key, encode_ecdsa_signature, encode_named_curve_parameters

from issuance.keystore import base
from issuance.keystore.base import AES_KINDS, DEFAULT_MECHANISM, KeyInfo, KeyKind, Keystore, KeystoreError

# Every private or secret key: created on the token, never readable, never wrappable out.
PROTECTED = {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
             Attribute.EXTRACTABLE: False}
# An AES master key's only use is CKM_AES_CMAC (SIGN): that is how the token derives card keys.
AES_MASTER = {**PROTECTED, Attribute.SIGN: True, Attribute.VERIFY: False, Attribute.ENCRYPT: False,
              Attribute.DECRYPT: False, Attribute.WRAP: False, Attribute.UNWRAP: False,
              Attribute.DERIVE: False}
# CKA_START_DATE cannot be read back through python-pkcs11 from SoftHSM2, so the creation time
# travels in CKA_ID (free-form bytes; this keystore finds keys by label only).
ID_PREFIX = b"created:"
# The process that called C_Initialize for each library; a forked child must initialise again.
_INITIALISED_BY: dict[str, int] = {}
# A hash of the PIN each token was logged in with in this process (to check a second login).
_LOGGED_IN: dict[tuple[str, str], bytes] = {}


def _created_id() -> bytes:
    return ID_PREFIX + dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")


def _created(obj: Any) -> dt.datetime:
    raw = bytes(obj[Attribute.ID])
    if raw.startswith(ID_PREFIX):
        return dt.datetime.strptime(raw[len(ID_PREFIX):].decode("ascii"), "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(0, dt.UTC)


def _kind(obj: Any) -> KeyKind:
    if obj.key_type == KeyType.AES:
        return AES_KINDS[obj[Attribute.VALUE_LEN] * 8]
    if obj.key_type == KeyType.EC:
        return KeyKind.EC_P256
    return KeyKind.RSA3072


class Pkcs11Keystore(Keystore):
    """Keys on one token, found by label; one session per process, opened lazily after any fork."""

    name = "PKCS#11 token"

    def __init__(self, library: str, token: str, pin: str) -> None:
        if not pin:
            raise KeystoreError(f"PKCS#11 token {token!r}: no PIN (set ISSUANCE_PKCS11_PIN)")
        self.library, self.token_label = library, token
        self.name = f"PKCS#11 token {token!r}"
        self._pin = pin
        self._session: Any = None
        self._pid = 0
        # Object handles and kinds by label: a find costs more than the signature itself.
        self._handles: dict[tuple[str, ObjectClass], Any] = {}
        self._kinds: dict[str, KeyKind] = {}

    def __repr__(self) -> str:
        return f"Pkcs11Keystore({self.library!r}, {self.token_label!r})"

    # --- session ---------------------------------------------------------------------------
    def _open(self) -> Any:
        if not os.path.exists(self.library):
            raise KeystoreError(f"PKCS#11 library {self.library}: file not found")
        lib = pkcs11.lib(self.library)
        if _INITIALISED_BY.setdefault(self.library, os.getpid()) != os.getpid():
            # A forked child inherits the parent's initialised library: PKCS#11 v2.40 §6.7.7 wants
            # C_Initialize again in the child before any other call.
            lib.reinitialize()
            _INITIALISED_BY[self.library] = os.getpid()
        try:
            token = lib.get_token(token_label=self.token_label)
            # Checked before login: a locked token refuses the right PIN too, and trying again
            # only adds failures to its counter.
            if token.flags & TokenFlag.USER_PIN_LOCKED:
                raise p11e.PinLocked()
            return self._login(token)
        except p11e.NoSuchToken:
            raise KeystoreError(f"{self.name}: token not found in {self.library}") from None
        except (p11e.PinIncorrect, p11e.PinLenRange):
            raise KeystoreError(f"{self.name}: wrong PIN") from None
        except p11e.PinLocked:
            raise KeystoreError(f"{self.name}: PIN locked after too many wrong PINs; "
                                "the security officer must unlock it") from None
        except p11e.PKCS11Error as exc:
            raise KeystoreError(f"{self.name}: cannot open a session ({type(exc).__name__})") from None

    def _login(self, token: Any) -> Any:
        proof = hashlib.sha256(self._pin.encode()).digest()
        try:
            session = token.open(user_pin=self._pin, rw=True)
        except p11e.UserAlreadyLoggedIn:
            # Login is per application (PKCS#11 v2.40 §5.6): another keystore object in this
            # process logged in already and this session shares that state, so compare the PINs.
            if _LOGGED_IN.get((self.library, self.token_label)) != proof:
                raise p11e.PinIncorrect() from None
            return token.open(rw=True)
        _LOGGED_IN[(self.library, self.token_label)] = proof
        return session

    @property
    def session(self) -> Any:
        if self._session is None or self._pid != os.getpid():
            self._session = self._open()
            self._pid = os.getpid()
            self._handles, self._kinds = {}, {}
        return self._session

    def close(self) -> None:
        if self._session is not None and self._pid == os.getpid():
            self._session.close()
        self._session = None

    # --- finding keys ----------------------------------------------------------------------
    def _find(self, label: str, cls: ObjectClass) -> Any | None:
        session = self.session
        if (label, cls) in self._handles:
            return self._handles[label, cls]
        found = list(session.get_objects({Attribute.LABEL: label, Attribute.CLASS: cls}))
        if not found:
            return None
        self._handles[label, cls] = found[0]
        return found[0]

    def _forget(self, label: str) -> None:
        self._kinds.pop(label, None)
        for cls in (ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
            self._handles.pop((label, cls), None)

    def _kind_of(self, label: str, obj: Any) -> KeyKind:
        if label not in self._kinds:
            self._kinds[label] = _kind(obj)
        return self._kinds[label]

    def master_kind(self, label: str) -> KeyKind:
        return self._kind_of(label, self._key(label, ObjectClass.SECRET_KEY))

    def _key(self, label: str, *classes: ObjectClass) -> Any:
        for cls in classes:
            obj = self._find(label, cls)
            if obj is not None:
                return obj
        if any(self._find(label, c) for c in (ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY)):
            raise base.WrongKeyKind(f"{self.name}: key {label!r} is not usable here")
        raise base.KeyNotFound(f"{self.name}: no key labelled {label!r}")

    def _check_free(self, label: str) -> None:
        base.check_label(label)
        if any(self._find(label, c) for c in (ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY)):
            raise base.KeyExists(f"{self.name}: a key labelled {label!r} exists already")

    def _info(self, obj: Any) -> KeyInfo:
        return KeyInfo(obj.label, _kind(obj), _created(obj), retired=not obj[Attribute.SIGN])

    # --- generation ------------------------------------------------------------------------
    def generate_aes(self, label: str, bits: int = 128) -> KeyInfo:
        if bits not in AES_KINDS:
            raise KeystoreError(f"bits: AES master keys are 128 or 256 bits, got {bits}")
        self._check_free(label)
        key = self.session.generate_key(KeyType.AES, bits, label=label, id=_created_id(), store=True,
                                        template=AES_MASTER)
        return self._info(key)

    def import_aes(self, label: str, value: bytes) -> KeyInfo:
        base.check_aes_value(value)
        self._check_free(label)
        key = self.session.create_object({
            **AES_MASTER, Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
            Attribute.LABEL: label, Attribute.ID: _created_id(), Attribute.VALUE: bytes(value)})
        return self._info(key)

    def _pair_templates(self) -> dict[str, Any]:
        created = _created_id()
        return {"store": True, "id": created,
                "public_template": {Attribute.TOKEN: True, Attribute.VERIFY: True},
                "private_template": {**PROTECTED, Attribute.SIGN: True, Attribute.DECRYPT: False,
                                     Attribute.UNWRAP: False, Attribute.DERIVE: False}}

    def generate_ec_p256(self, label: str) -> KeyInfo:
        self._check_free(label)
        params = self.session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
        _, private = params.generate_keypair(label=label, **self._pair_templates())
        return self._info(private)

    def generate_rsa3072(self, label: str) -> KeyInfo:
        self._check_free(label)
        _, private = self.session.generate_keypair(KeyType.RSA, 3072, label=label, **self._pair_templates())
        return self._info(private)

    # --- use -------------------------------------------------------------------------------
    def _use(self, obj: Any, label: str, operation: Any) -> Any:
        try:
            return operation()
        except (AttributeError, p11e.PKCS11Error) as exc:
            # A retired key has CKA_SIGN false: the token refuses it, and python-pkcs11 gives an
            # object loaded after retirement no sign method at all.
            self._forget(label)
            try:
                retired = not obj[Attribute.SIGN]
            except p11e.PKCS11Error:  # the handle itself went stale (key destroyed elsewhere)
                retired = False
            if retired:
                raise base.retired_error(self.name, label) from None
            raise KeystoreError(f"{self.name}: {type(exc).__name__} using key {label!r}") from None

    def cmac(self, label: str, blocks: list[bytes]) -> list[bytes]:
        key = self._key(label, ObjectClass.SECRET_KEY)
        return self._use(key, label, lambda: [key.sign(b, mechanism=P11Mechanism.AES_CMAC) for b in blocks])

    def sign(self, label: str, data: bytes, mechanism: base.Mechanism | None = None) -> bytes:
        key = self._key(label, ObjectClass.PRIVATE_KEY)
        kind = self._kind_of(label, key)
        mechanism = mechanism or DEFAULT_MECHANISM[kind]
        if mechanism is not DEFAULT_MECHANISM[kind]:
            raise base.WrongKeyKind(f"{self.name}: key {label!r} ({kind}) cannot sign with {mechanism}")
        if kind is KeyKind.EC_P256:
            # SoftHSM2 lacks CKM_ECDSA_SHA256: hash here, sign the digest with CKM_ECDSA in the token.
            digest = hashlib.sha256(data).digest()
            raw = self._use(key, label, lambda: key.sign(digest, mechanism=P11Mechanism.ECDSA))
            return bytes(encode_ecdsa_signature(raw))
        param = (P11Mechanism.SHA256, MGF.SHA256, base.PSS_SALT_LENGTH)
        return bytes(self._use(key, label, lambda: key.sign(
            data, mechanism=P11Mechanism.SHA256_RSA_PKCS_PSS, mechanism_param=param)))

    def public_key(self, label: str) -> base.PublicKey:
        pub = self._key(label, ObjectClass.PUBLIC_KEY)
        if pub.key_type == KeyType.EC:
            loaded = load_der_public_key(bytes(encode_ec_public_key(pub)))
            assert not isinstance(loaded, rsa.RSAPublicKey)
            return loaded  # type: ignore[return-value]
        numbers = rsa.RSAPublicNumbers(int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
                                       int.from_bytes(pub[Attribute.MODULUS], "big"))
        return numbers.public_key()

    def list_keys(self) -> list[KeyInfo]:
        keys = [*self.session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}),
                *self.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})]
        return sorted((self._info(k) for k in keys), key=lambda i: i.label)

    def info(self, label: str) -> KeyInfo:
        return self._info(self._key(label, ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY))

    def retire(self, label: str) -> None:
        # CKA_SIGN is modifiable (PKCS#11 v2.40 table 24): clearing it makes the token refuse use.
        self._key(label, ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY)[Attribute.SIGN] = False
        self._forget(label)

    def destroy(self, label: str) -> None:
        for cls in (ObjectClass.SECRET_KEY, ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
            obj = self._find(label, cls)
            if obj is not None:
                obj.destroy()
        self._forget(label)
