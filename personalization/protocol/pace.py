"""PACE with the generic mapping on ECDH and AES-128 (ICAO 9303-11 §4.4, BSI TR-03110-2 §3.2).

The primitives (password key, nonce, mapping, tokens) serve both the inspection system here
and the chip side in the virtual card; `authenticate` is the inspection system's run.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import core
from ecdsa.ellipticcurve import INFINITY

from personalization import tlv
from personalization.apdu import CommandAPDU
from personalization.channel import ApduSender
from personalization.lds.mrz import mrz_information
from personalization.protocol import security_infos as si
from personalization.protocol.aes_sm import (
    KDF_MAC,
    KDF_PACE,
    aes_ecb_block,
    aes_ecb_block_decrypt,
    icao_kdf,
    session_from_secret,
)
from personalization.protocol.ec_params import DomainParameters, Point, by_id, public_key_do, shared_x
from personalization.protocol.kdf import aes_cmac
from personalization.protocol.secure_messaging import MAC_LEN, SecureMessagingChannel
from personalization.status_words import SW, CardError

PASSWORD_MRZ = 0x01
PASSWORD_CAN = 0x02
PACE_VERSION = 2
NONCE_LEN = 16
INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86
MSE_SET_AT_PACE = (0xC1, 0xA4)
TAG_DYNAMIC = 0x7C
CAN_LENGTH = 6


@dataclass(frozen=True)
class PacePassword:
    """The password π: its reference (MRZ 01, CAN 02) and f(π) (ICAO 9303-11 §4.4.3.1)."""

    reference: int
    secret: bytes

    def __repr__(self) -> str:
        # The password never reaches logs or tracebacks.
        kind = "MRZ" if self.reference == PASSWORD_MRZ else "CAN"
        return f"PacePassword({kind})"

    @classmethod
    def mrz(cls, document_number: str, birth_date: str, expiry_date: str) -> PacePassword:
        """f(π) = SHA-1 of the MRZ information with its check digits (ICAO 9303-11 §9.7.3)."""
        info = mrz_information(document_number, birth_date, expiry_date)
        return cls(PASSWORD_MRZ, hashlib.sha1(info.encode("ascii")).digest())

    @classmethod
    def can(cls, digits: str) -> PacePassword:
        """f(π) = the CAN as ASCII digits (ICAO 9303-11 §9.7.3)."""
        if not digits.isdigit() or len(digits) != CAN_LENGTH:
            raise ValueError(f"CAN must be {CAN_LENGTH} digits")
        return cls(PASSWORD_CAN, digits.encode("ascii"))

    @property
    def key(self) -> bytes:
        """Kπ = KDF(f(π), 3) for AES-128 (ICAO 9303-11 §9.7.3)."""
        return icao_kdf(self.secret, KDF_PACE)


@dataclass(frozen=True)
class PaceInfo:
    """The PACEInfo this implementation speaks: ECDH-GM-AES-CBC-CMAC-128, version 2."""

    parameter_id: int

    @property
    def parameters(self) -> DomainParameters:
        return by_id(self.parameter_id)


def pace_info(parameter_id: int) -> si.SecurityInfo:
    """PACEInfo {id-PACE-ECDH-GM-AES-CBC-CMAC-128, version 2, parameterId} (ICAO 9303-11 §9.2.1)."""
    return si.info(si.PACE_ECDH_GM_AES_128, core.Integer(PACE_VERSION), core.Integer(parameter_id))


def card_access(parameter_id: int) -> bytes:
    """EF.CardAccess content: SecurityInfos holding the PACEInfo (ICAO 9303-10 §3.11.3)."""
    return si.encode([pace_info(parameter_id)])


def supported_pace(infos: list[si.ParsedInfo]) -> PaceInfo:
    """The first PACEInfo we support; ValueError when the chip offers none of them."""
    for item in infos:
        if item.protocol == si.PACE_ECDH_GM_AES_128 and item.integer() == PACE_VERSION:
            if item.optional is None:
                continue  # proprietary domain parameters (PACEDomainParameterInfo): not offered
            pid = item.integer("optional")
            try:
                by_id(pid)
            except ValueError:
                continue
            return PaceInfo(pid)
    raise ValueError("EF.CardAccess offers no PACE with ECDH generic mapping and AES-128")


# --- primitives shared by both sides ------------------------------------------------------

def encrypt_nonce(password_key: bytes, nonce: bytes) -> bytes:
    """z = E(Kπ, s): one AES block, CBC with a zero IV (ICAO 9303-11 §4.4.3.3.1)."""
    return aes_ecb_block(password_key, nonce)


def decrypt_nonce(password_key: bytes, encrypted: bytes) -> bytes:
    if len(encrypted) != NONCE_LEN:
        raise ValueError("encrypted nonce must be one AES block")
    return aes_ecb_block_decrypt(password_key, encrypted)


def map_generator(params: DomainParameters, nonce: bytes, shared: Point) -> Point:
    """Generic mapping: G^ = s·G + H, H = SKmap · PKmap of the peer (ICAO 9303-11 §4.4.3.3.2)."""
    mapped = params.generator * int.from_bytes(nonce, "big") + shared
    if mapped == INFINITY:
        raise ValueError("mapping produced the point at infinity")
    return mapped


def token(ks_mac: bytes, point: bytes) -> bytes:
    """T = MAC(KSmac, 7F49{06 OID, 86 peer point}), AES-CMAC cut to 8 (ICAO 9303-11 §4.4.3.4)."""
    oid = si.oid_content(si.PACE_ECDH_GM_AES_128)
    return aes_cmac(ks_mac, public_key_do(oid, point))[:MAC_LEN]


def dynamic_data(tag: int, value: bytes) -> bytes:
    return tlv.encode(TAG_DYNAMIC, tlv.encode(tag, value) if tag else b"")


def read_dynamic(data: bytes, tag: int) -> bytes:
    """The object `tag` inside the 7C template; ValueError when it is absent or malformed."""
    try:
        outer = tlv.find(data, TAG_DYNAMIC)
        inner = tlv.find(outer or b"", tag) if outer is not None else None
    except tlv.TlvError as exc:
        raise ValueError(str(exc)) from exc
    if inner is None:
        raise ValueError(f"dynamic authentication data lacks tag {tag:02X}")
    return inner


def mse_set_at(password: PacePassword, info: PaceInfo) -> CommandAPDU:
    """MSE:Set AT for PACE: 80 protocol, 83 password, 84 parameter id (ICAO 9303-11 §4.4.4.1)."""
    body = (tlv.encode(0x80, si.oid_content(si.PACE_ECDH_GM_AES_128))
            + tlv.encode(0x83, bytes((password.reference,)))
            + tlv.encode(0x84, bytes((info.parameter_id,))))
    return CommandAPDU(0x00, INS_MSE, *MSE_SET_AT_PACE, body)


def general_authenticate(tag: int, value: bytes, last: bool) -> CommandAPDU:
    """GENERAL AUTHENTICATE; every step but the last sets the chaining bit (§4.4.4.2)."""
    return CommandAPDU(0x00 if last else 0x10, INS_GENERAL_AUTHENTICATE, 0, 0,
                       dynamic_data(tag, value), le=256)


# --- inspection system ---------------------------------------------------------------------

def _step(sender: ApduSender, tag: int, value: bytes, answer_tag: int, last: bool = False
          ) -> bytes:
    answer = sender.transmit(general_authenticate(tag, value, last))
    if answer.sw != SW.OK:
        raise CardError(answer.sw, f"PACE GENERAL AUTHENTICATE step {answer_tag - 0x7F}")
    try:
        return read_dynamic(answer.data, answer_tag)
    except ValueError as exc:
        raise CardError(SW.WRONG_DATA, f"PACE answer: {exc}") from exc


def authenticate(sender: ApduSender, password: PacePassword, card_access_content: bytes,
                 rng: Callable[[int], bytes] = os.urandom) -> SecureMessagingChannel:
    """Run PACE as the inspection system; returns the AES secure messaging channel.

    ICAO 9303-11 §4.4.3-4.4.4. A wrong password shows as CardError(6300) on the last step.
    """
    info = supported_pace(si.parse(card_access_content))
    params = info.parameters
    sender.transmit(mse_set_at(password, info)).check("PACE MSE:Set AT")
    nonce = decrypt_nonce(password.key, _step(sender, 0, b"", 0x80))
    sk_map = params.random_scalar(rng)
    pk_map = params.encode_point(params.generator * sk_map)
    chip_map = params.decode_point(_step(sender, 0x81, pk_map, 0x82))
    g_hat = map_generator(params, nonce, chip_map * sk_map)
    sk = params.random_scalar(rng)
    pk = params.encode_point(g_hat * sk)
    chip_pk_bytes = _step(sender, 0x83, pk, 0x84)
    if hmac.compare_digest(chip_pk_bytes, pk):
        raise CardError(SW.AUTHENTICATION_FAILED, "chip echoed our ephemeral key")
    secret = shared_x(sk, params.decode_point(chip_pk_bytes), params)
    ks_mac = icao_kdf(secret, KDF_MAC)
    chip_token = _step(sender, 0x85, token(ks_mac, chip_pk_bytes), 0x86, last=True)
    if not hmac.compare_digest(chip_token, token(ks_mac, pk)):
        raise CardError(SW.AUTHENTICATION_FAILED, "chip authentication token")
    return SecureMessagingChannel(sender, session_from_secret(secret))
