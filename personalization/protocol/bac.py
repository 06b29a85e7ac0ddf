"""Basic Access Control: key seed, key derivation and mutual authentication (ICAO 9303-11 §4.3)."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from personalization.apdu import CommandAPDU
from personalization.channel import ApduSender
from personalization.padding import pad
from personalization.protocol.des import adjust_parity, retail_mac, tdes_cbc_decrypt, tdes_cbc_encrypt
from personalization.protocol.secure_messaging import SecureMessagingChannel, SmSession
from personalization.status_words import SW, CardError

INS_GET_CHALLENGE = 0x84
INS_MUTUAL_AUTHENTICATE = 0x82


def key_seed(mrz_info: str) -> bytes:
    """Kseed: the first 16 bytes of SHA-1 over the MRZ information (ICAO 9303-11 §9.7.2)."""
    return hashlib.sha1(mrz_info.encode("ascii")).digest()[:16]


def derive_key(seed: bytes, counter: int) -> bytes:
    """3DES key from a seed, c=1 for encryption and c=2 for MAC (ICAO 9303-11 §9.7.1)."""
    digest = hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()
    return adjust_parity(digest[:16])


def basic_access_keys(seed: bytes) -> tuple[bytes, bytes]:
    return derive_key(seed, 1), derive_key(seed, 2)


def session_from_key_material(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes
                              ) -> SmSession:
    """Session keys from KIFD xor KIC and the SSC from the nonces (ICAO 9303-11 §9.7.4)."""
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    return SmSession(derive_key(seed, 1), derive_key(seed, 2), rnd_ic[4:] + rnd_ifd[4:])


def authenticate(
    sender: ApduSender, seed: bytes, rng: Callable[[int], bytes] = os.urandom
) -> SecureMessagingChannel:
    """Run BAC as the inspection system and return the SM channel (ICAO 9303-11 §4.3.4)."""
    k_enc, k_mac = basic_access_keys(seed)
    rnd_ic = sender.transmit(CommandAPDU(0x00, INS_GET_CHALLENGE, 0, 0, le=8)).check(
        "GET CHALLENGE"
    )
    rnd_ifd, k_ifd = rng(8), rng(16)
    e_ifd = tdes_cbc_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    m_ifd = retail_mac(k_mac, pad(e_ifd, 8))
    answer = sender.transmit(
        CommandAPDU(0x00, INS_MUTUAL_AUTHENTICATE, 0, 0, e_ifd + m_ifd, le=40)
    ).check("MUTUAL AUTHENTICATE")
    if len(answer) != 40:
        raise CardError(SW.WRONG_LENGTH, "MUTUAL AUTHENTICATE answer")
    e_ic, m_ic = answer[:32], answer[32:]
    if not hmac.compare_digest(retail_mac(k_mac, pad(e_ic, 8)), m_ic):
        raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, "chip MAC in MUTUAL AUTHENTICATE")
    r = tdes_cbc_decrypt(k_enc, e_ic)
    if r[:8] != rnd_ic or r[8:16] != rnd_ifd:
        raise CardError(SW.AUTHENTICATION_FAILED, "chip did not return our nonces")
    return SecureMessagingChannel(sender, session_from_key_material(k_ifd, r[16:], rnd_ic, rnd_ifd))
