"""Active authentication with ECDSA: DG15, INTERNAL AUTHENTICATE, verification (ICAO 9303-11 §6.1)."""

from __future__ import annotations

import os
from collections.abc import Callable

from asn1crypto import core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import load_der_public_key

from personalization import tlv
from personalization.apdu import CommandAPDU
from personalization.channel import ApduSender
from personalization.protocol import security_infos as si
from personalization.status_words import SW, CardError

TAG_DG15 = 0x6F
INS_INTERNAL_AUTHENTICATE = 0x88
CHALLENGE_LEN = 8
AA_VERSION = 1


def active_authentication_info() -> si.SecurityInfo:
    """ActiveAuthenticationInfo {id-AA, 1, ecdsa-plain-SHA256}, in DG14 for ECDSA (§9.2.8)."""
    return si.info(si.ACTIVE_AUTHENTICATION, core.Integer(AA_VERSION),
                   core.ObjectIdentifier(si.ECDSA_PLAIN_SHA256))


def dg15(public_key_info: bytes) -> bytes:
    """EF.DG15: tag 6F around the ActiveAuthenticationPublicKeyInfo (ICAO 9303-10 §4.7.15)."""
    return tlv.encode(TAG_DG15, public_key_info)


def public_key(dg15_content: bytes) -> ec.EllipticCurvePublicKey:
    """The ECDSA key of DG15; ValueError if DG15 holds anything else."""
    key = load_der_public_key(si.data_group_body(dg15_content, TAG_DG15, "DG15"))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("DG15: only ECDSA active authentication keys are supported")
    return key


def internal_authenticate(challenge: bytes) -> CommandAPDU:
    return CommandAPDU(0x00, INS_INTERNAL_AUTHENTICATE, 0, 0, challenge, le=256)


def verify(dg15_content: bytes, challenge: bytes, signature: bytes) -> bool:
    """Check a plain r||s ECDSA-SHA256 signature over the challenge (BSI TR-03111 §5.2.1)."""
    key = public_key(dg15_content)
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                               int.from_bytes(signature[size:], "big"))
    try:
        key.verify(der, challenge, ec.ECDSA(SHA256()))
    except InvalidSignature:
        return False
    return True


def authenticate(channel: ApduSender, dg15_content: bytes,
                 rng: Callable[[int], bytes] = os.urandom) -> None:
    """Challenge the chip and check its signature; CardError says why the chip is not genuine."""
    challenge = rng(CHALLENGE_LEN)
    answer = channel.transmit(internal_authenticate(challenge))
    if answer.sw != SW.OK:
        raise CardError(answer.sw, "INTERNAL AUTHENTICATE")
    if not verify(dg15_content, challenge, answer.data):
        raise CardError(SW.AUTHENTICATION_FAILED,
                        "active authentication: the signature does not match DG15's key")
