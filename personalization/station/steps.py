"""Personalization of one card as a host-side sequence of steps (DESIGN §4, GPC 2.3, ICAO 9303).

Identity and keys are checked before the first write; every step records its outcome; any failure
raises PersonalizationError naming the step and the status word. Nothing is retried on the card.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from personalization import commands, tlv
from personalization.apdu import CommandAPDU
from personalization.capabilities import CardCapabilities, read_capabilities
from personalization.lds import profile
from personalization.lds.builder import Lds
from personalization.lds.builder import build as build_lds
from personalization.lds.holder import DocumentData, HolderData
from personalization.lds.mrz import Td1, td1
from personalization.protocol import active_auth, chip_auth, inspection
from personalization.protocol.ec_params import BRAINPOOL_P256R1, NIST_P256
from personalization.protocol.pace import CAN_LENGTH, PacePassword
from personalization.protocol.scp03 import LEVEL_FULL, Scp03Channel
from personalization.station.ports import HolderSubject, StationPki
from personalization.station.result import (
    CardRefused,
    Credentials,
    PersonalizationError,
    PersonalizationResult,
    Step,
    StepOutcome,
)
from personalization.status_words import CardError, TransportError
from personalization.transport.base import Transport

SCP03_OVERHEAD = 16 + 8  # C-DECRYPTION padding and the C-MAC (GPC Amd D §6.2.4, §6.2.6)
TAG_CPLC = 0x9F7F
TAG_KDD = 0x9F6E
GET_DATA_CPLC = CommandAPDU(0x80, 0xCA, 0x9F, 0x7F, le=256)
SET_STATUS_APP = 0x40
SET_STATUS_CARD = 0x80


@dataclass(frozen=True)
class CardOrder:
    """What to write on one card: the document and the holder, as enrollment and validation left them."""

    document: DocumentData
    holder: HolderData

    @property
    def subject(self) -> HolderSubject:
        return HolderSubject.of(self.holder, self.document)

    @property
    def mrz(self) -> Td1:
        return td1(self.document, self.holder)


def random_digits(n: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(n))


class Personalizer:
    """Runs the steps on one card through any transport; `observer` sees each step start and end."""

    def __init__(self, transport: Transport, pki: StationPki,
                 observer: Callable[[Step, StepOutcome | None], None] | None = None,
                 before_writes: Callable[[PersonalizationResult], None] | None = None) -> None:
        self.transport = transport
        self.pki = pki
        self.observer = observer
        # Told the card's identity once it is known good and before the first write (the intent record).
        self.before_writes = before_writes
        self.result = PersonalizationResult()
        self.caps = CardCapabilities()
        self._public_point = b""

    def __repr__(self) -> str:
        return f"Personalizer({self.transport!r})"

    @contextmanager
    def _step(self, step: Step) -> Iterator[None]:
        if self.observer:
            self.observer(step, None)
        start, before = time.perf_counter(), self.transport.apdus
        failure: PersonalizationError | None = None
        try:
            yield
        except PersonalizationError as exc:
            failure = exc
        except CardError as exc:
            failure = PersonalizationError(step, exc.context or "card refused the command", exc.sw)
        except TransportError as exc:
            failure = PersonalizationError(step, f"card or reader lost: {exc}")
        except ValueError as exc:
            # A file or answer read back that does not decode is a verification failure.
            failure = PersonalizationError(step, f"unreadable data: {exc}")
        outcome = StepOutcome(step, failure is None, self.transport.apdus - before,
                              (time.perf_counter() - start) * 1000,
                              failure.sw if failure else None, failure.reason if failure else "")
        self.result.steps.append(outcome)
        if self.observer:
            self.observer(step, outcome)
        if failure is not None:
            raise failure

    def run(self, order: CardOrder) -> PersonalizationResult:
        """All steps in DESIGN §4 order; returns the result or raises PersonalizationError."""
        self.result.ds_certificate = self.pki.document_signer.certificate
        with self._step(Step.IDENTIFY):
            self.identify()
        with self._step(Step.OPEN_CHANNEL):
            lds_channel = self.open_channel(profile.LDS_AID, Step.OPEN_CHANNEL)
            if self.before_writes:
                self.before_writes(self.result)
        with self._step(Step.CHIP_KEYS):
            lds = build_lds(order.document, order.holder, self.pki.document_signer,
                            self.chip_keys(lds_channel))
            self.result.files = {ef.name: data for ef, data in lds.files.items()}
        with self._step(Step.WRITE_LDS):
            self.write_lds(lds_channel, lds)
        with self._step(Step.ACCESS_KEYS):
            self.result.can = self.access_keys(lds_channel, lds)
        with self._step(Step.HOLDER_KEY):
            signature_channel = self.open_channel(profile.SIGNATURE_AID, Step.HOLDER_KEY)
            self.holder_key(signature_channel, order.subject)
        with self._step(Step.PIN):
            self.result.credentials = self.set_pins(signature_channel)
        with self._step(Step.VERIFY):
            self.verify(lds)
        with self._step(Step.LOCK):
            self.lock()
        return self.result

    # --- steps -------------------------------------------------------------------------
    def identify(self) -> None:
        """ATR, declared limits, KDD and CPLC: a card from our stock, blank (reads only)."""
        if not self.transport.connected:
            self.transport.connect()
        atr = self.result.atr = self.transport.atr
        if atr != profile.atr():
            raise CardRefused(Step.IDENTIFY, f"not a card of profile v1 (ATR {atr.hex().upper()})")
        self.caps = read_capabilities(self.transport, atr)
        fci = self.transport.transmit(commands.select_aid(profile.ISD_AID)).check("SELECT ISD")
        kdd = _find(fci, TAG_KDD)
        if kdd is None or not kdd.startswith(profile.KDD_PREFIX):
            raise CardRefused(Step.IDENTIFY, "card is not from our stock (KDD prefix)")
        self.result.kdd = kdd
        self.result.serial = int.from_bytes(kdd[len(profile.KDD_PREFIX):], "big")
        self.result.cplc = tlv.find(self.transport.transmit(GET_DATA_CPLC).check("GET DATA CPLC"),
                                    TAG_CPLC) or b""

    def open_channel(self, aid: bytes, step: Step) -> Scp03Channel:
        """SELECT the application (it must still be blank) and open SCP03 with the keystore's keys."""
        fci = self.transport.transmit(commands.select_aid(aid)).check(f"SELECT {aid.hex().upper()}")
        life_cycle = _find(fci, 0x8A)
        if life_cycle != bytes((profile.APP_SELECTABLE,)):
            raise CardRefused(step, f"application {aid.hex().upper()} is not blank")
        channel = Scp03Channel(self.transport, self.pki.card_keys.card_keys, LEVEL_FULL)
        try:
            info = channel.open()
        except CardError as exc:
            raise CardRefused(step, f"secure channel refused: {exc.context}", exc.sw) from exc
        if not hmac.compare_digest(info.kdd, self.result.kdd):
            raise CardRefused(step, "the card changed its KDD between selections")
        return channel

    def chip_keys(self, channel: Scp03Channel) -> dict[profile.LdsFile, bytes]:
        """CA and AA key pairs made on the card; DG14 and DG15 carry their public keys (ICAO 9303-11 §6)."""
        files: dict[profile.LdsFile, bytes] = {}
        if profile.OFFERS.chip_authentication:
            point = self._generate(channel, profile.KEY_CHIP_AUTHENTICATION, "chip authentication")
            pace_id = profile.PACE_PARAMETER_ID if profile.OFFERS.pace else None
            files[profile.DG14] = chip_auth.dg14(chip_auth.public_key_info(point, BRAINPOOL_P256R1), pace_id,
                                                 active_authentication=profile.OFFERS.active_authentication)
        if profile.OFFERS.active_authentication:
            point = self._generate(channel, profile.KEY_ACTIVE_AUTHENTICATION, "active authentication")
            files[profile.DG15] = active_auth.dg15(chip_auth.public_key_info(point, NIST_P256))
        return files

    @staticmethod
    def _generate(channel: Scp03Channel, key: int, what: str) -> bytes:
        answer = channel.transmit(CommandAPDU(0x00, 0x47, 0x80, key, le=256)).check(f"GENERATE {what} key")
        point = tlv.find(tlv.find(answer, 0x7F49) or b"", 0x86)
        if point is None:
            raise PersonalizationError(Step.CHIP_KEYS, f"card returned no {what} public key")
        return point

    def access_keys(self, channel: Scp03Channel, lds: Lds) -> str:
        """BAC key seed, PACE MRZ password and a random CAN, under C-DECRYPTION (ICAO 9303-11 §4)."""
        mrz = lds.mrz
        can = random_digits(CAN_LENGTH)
        passwords = [(profile.TAG_BAC_SEED, lds.bac_seed, "BAC key seed")]
        if profile.OFFERS.pace:
            secret = PacePassword.mrz(mrz.document_number, mrz.birth_date, mrz.expiry_date).secret
            passwords += [(profile.TAG_PACE_MRZ, secret, "PACE MRZ password"),
                          (profile.TAG_CAN, can.encode("ascii"), "CAN")]
        for tag, value, what in passwords:
            channel.transmit(CommandAPDU(0x00, 0xDA, tag >> 8, tag & 0xFF, value)).check(f"PUT DATA {what}")
        return can if profile.OFFERS.pace else ""

    def write_lds(self, channel: Scp03Channel, lds: Lds) -> None:
        """CREATE FILE then as few UPDATE BINARY as the card's declared buffer allows."""
        chunk = self.caps.write_chunk(SCP03_OVERHEAD)
        for ef, data in lds.files.items():
            channel.transmit(commands.create_ef(ef.fid, len(data), ef.sfi, profile.LDS_READ_AC,
                                                profile.LDS_WRITE_AC)).check(f"CREATE FILE {ef.name}")
            # CREATE FILE leaves the new EF current: the writes need no SELECT.
            for offset in range(0, len(data), chunk):
                channel.transmit(commands.update_binary(offset, data[offset:offset + chunk])).check(
                    f"UPDATE BINARY {ef.name}@{offset}")

    def holder_key(self, channel: Scp03Channel, subject: HolderSubject) -> None:
        """Key pair generated on the card, certified by the issuing CA, certificate written back."""
        answer = channel.transmit(CommandAPDU(0x00, 0x47, 0x80, 0x00, le=256)).check(
            "GENERATE ASYMMETRIC KEY PAIR")
        point = tlv.find(tlv.find(answer, 0x7F49) or b"", 0x86)
        if point is None or len(point) != 65:
            raise PersonalizationError(Step.HOLDER_KEY, "card returned no P-256 public key")
        self._public_point = point
        certificate = self.pki.issuing_ca.certify(point, subject)
        self.result.holder_certificate = certificate
        chunk = self.caps.write_chunk(SCP03_OVERHEAD)
        channel.transmit(commands.create_ef(profile.FID_HOLDER_CERT, len(certificate),
                                            profile.HOLDER_CERT_SFI, profile.AC_ALWAYS,
                                            profile.AC_SECURE_CHANNEL)).check("CREATE FILE certificate")
        for offset in range(0, len(certificate), chunk):
            channel.transmit(commands.update_binary(offset, certificate[offset:offset + chunk])).check(
                "UPDATE BINARY certificate")

    def set_pins(self, channel: Scp03Channel) -> Credentials:
        """Random PIN and PUK as initial reference data, under C-DECRYPTION (ISO/IEC 7816-4 §11.5.7)."""
        credentials = Credentials(random_digits(profile.PIN_LENGTH), random_digits(profile.PUK_LENGTH))
        for ref, value, what in ((profile.PIN_REF, credentials.pin, "PIN"),
                                 (profile.PUK_REF, credentials.puk, "PUK")):
            channel.transmit(CommandAPDU(0x00, 0x24, 0x01, ref, profile.pin_block(value))).check(
                f"CHANGE REFERENCE DATA {what}")
        return credentials

    def verify(self, lds: Lds) -> None:
        """Read back as an inspection system: PACE (or BAC), CA, AA, passive authentication."""
        # A fresh power-on session, as a border reader gets: no SCP03 channel, nothing selected.
        self.transport.reconnect()
        csca = x509.load_der_x509_certificate(self.pki.csca)
        mrz = lds.mrz
        password = PacePassword.mrz(mrz.document_number, mrz.birth_date, mrz.expiry_date)
        report = inspection.inspect(self.transport, self.caps, [csca], password, lds.bac_seed)
        if not report.verdict.valid:
            raise PersonalizationError(Step.VERIFY, "passive authentication failed: "
                                       + "; ".join(report.verdict.failures))
        offers = profile.OFFERS
        if (offers.chip_authentication or offers.active_authentication) and not report.genuine:
            raise PersonalizationError(Step.VERIFY, report.chip_verdict)
        for ef, data in lds.files.items():
            if report.files.get(ef.name) != data:
                raise PersonalizationError(Step.VERIFY, f"{ef.name} read back differs from what was written")
        self.transport.transmit(commands.select_aid(profile.SIGNATURE_AID, fci=False)).check(
            "SELECT signature application")
        certificate = inspection.read_ef(self.transport, _HOLDER_CERT_EF, self.caps.read_chunk(0))
        self._check_holder_certificate(certificate or b"")

    def _check_holder_certificate(self, der: bytes) -> None:
        issuer = x509.load_der_x509_certificate(self.pki.issuing_ca.certificate)
        try:
            cert = x509.load_der_x509_certificate(der)
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise PersonalizationError(Step.VERIFY, f"holder certificate does not verify: {exc}") from exc
        public = cert.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint) != self._public_point:
            raise PersonalizationError(Step.VERIFY, "holder certificate is not for the card's key")
        if der != self.result.holder_certificate:
            raise PersonalizationError(Step.VERIFY, "holder certificate read back differs")

    def lock(self) -> None:
        """Applications to PERSONALIZED (no more writes), card to SECURED (GPC 2.3 §11.10)."""
        self.transport.transmit(commands.select_aid(profile.ISD_AID, fci=False)).check("SELECT ISD")
        channel = Scp03Channel(self.transport, self.pki.card_keys.card_keys, LEVEL_FULL)
        channel.open()
        for aid in (profile.LDS_AID, profile.SIGNATURE_AID):
            channel.transmit(CommandAPDU(0x80, 0xF0, SET_STATUS_APP, profile.APP_PERSONALIZED, aid)).check(
                f"SET STATUS application {aid.hex().upper()}")
        channel.transmit(CommandAPDU(0x80, 0xF0, SET_STATUS_CARD, profile.SECURED)).check(
            "SET STATUS card SECURED")


# The holder certificate is read like an LDS file: by short EF id, length from its TLV header.
_HOLDER_CERT_EF = profile.LdsFile("certificate", profile.FID_HOLDER_CERT, profile.HOLDER_CERT_SFI, 0x30)


def _find(data: bytes, tag: int) -> bytes | None:
    """A tag anywhere in a BER-TLV tree (FCI templates nest their proprietary data)."""
    for item in tlv.iterate(data):
        if item.tag == tag:
            return item.value
        if item.constructed:
            found = _find(item.value, tag)
            if found is not None:
                return found
    return None


def personalize(transport: Transport, pki: StationPki, order: CardOrder,
                observer: Callable[[Step, StepOutcome | None], None] | None = None
                ) -> PersonalizationResult:
    """Personalize, verify and lock the card in the transport's reader."""
    return Personalizer(transport, pki, observer).run(order)
