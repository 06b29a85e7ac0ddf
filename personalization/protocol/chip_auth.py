"""Chip authentication with ECDH and AES-128: DG14 and the terminal's run (ICAO 9303-11 §6.2).

The station builds DG14 with `dg14()` from the public key the chip returned when it generated
its key pair; an inspection system runs `authenticate()` after BAC or PACE.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import core, keys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from personalization import tlv
from personalization.apdu import CommandAPDU
from personalization.protocol import security_infos as si
from personalization.protocol.active_auth import active_authentication_info
from personalization.protocol.aes_sm import session_from_secret
from personalization.protocol.ec_params import DomainParameters, for_curve, shared_x
from personalization.protocol.pace import INS_GENERAL_AUTHENTICATE, INS_MSE, dynamic_data, pace_info
from personalization.protocol.secure_messaging import SecureMessagingChannel
from personalization.status_words import SW, CardError

TAG_DG14 = 0x6E
CA_VERSION = 1
MSE_SET_AT_CA = (0x41, 0xA4)


def public_key_info(point: bytes, params: DomainParameters) -> bytes:
    """SubjectPublicKeyInfo (id-ecPublicKey, named curve) of an uncompressed chip point."""
    key = ec.EllipticCurvePublicKey.from_encoded_point(params.crypto_curve, point)
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def chip_authentication_info() -> si.SecurityInfo:
    """ChipAuthenticationInfo {id-CA-ECDH-AES-CBC-CMAC-128, version 1} (ICAO 9303-11 §9.2.5)."""
    return si.info(si.CA_ECDH_AES_128, core.Integer(CA_VERSION))


def chip_authentication_public_key_info(spki: bytes) -> si.SecurityInfo:
    """ChipAuthenticationPublicKeyInfo {id-PK-ECDH, SubjectPublicKeyInfo} (§9.2.6)."""
    return si.info(si.PK_ECDH, keys.PublicKeyInfo.load(spki))


def dg14(ca_public_key_info: bytes, pace_parameter_id: int | None = None,
         active_authentication: bool = False) -> bytes:
    """EF.DG14: tag 6E around SecurityInfos for CA, and PACE and ECDSA AA when offered (9303-10 §4.7.14)."""
    infos = [chip_authentication_info(), chip_authentication_public_key_info(ca_public_key_info)]
    if pace_parameter_id is not None:
        infos.append(pace_info(pace_parameter_id))
    if active_authentication:
        infos.append(active_authentication_info())
    return tlv.encode(TAG_DG14, si.encode(infos))


@dataclass(frozen=True)
class ChipAuthenticationKey:
    """The chip's static key announced in DG14, with its domain parameters."""

    public_key: ec.EllipticCurvePublicKey
    params: DomainParameters

    @property
    def point(self) -> bytes:
        return self.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def chip_key(dg14_content: bytes) -> ChipAuthenticationKey:
    """The CA public key of DG14; ValueError when DG14 offers no CA we speak."""
    infos = si.parse(si.data_group_body(dg14_content, TAG_DG14, "DG14"))
    if not any(i.protocol == si.CA_ECDH_AES_128 and i.integer() == CA_VERSION for i in infos):
        raise ValueError("DG14 offers no chip authentication with ECDH and AES-128")
    for item in infos:
        if item.protocol == si.PK_ECDH:
            key = load_der_public_key(item.required)
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise ValueError("DG14: chip authentication key is not an EC key")
            return ChipAuthenticationKey(key, for_curve(key.curve))
    raise ValueError("DG14 holds no ChipAuthenticationPublicKeyInfo")


def mse_set_at() -> CommandAPDU:
    """MSE:Set AT for chip authentication: 80 protocol OID (ICAO 9303-11 §6.2.4.1)."""
    return CommandAPDU(0x00, INS_MSE, *MSE_SET_AT_CA,
                       tlv.encode(0x80, si.oid_content(si.CA_ECDH_AES_128)))


def authenticate(channel: SecureMessagingChannel, dg14_content: bytes,
                 rng: Callable[[int], bytes] = os.urandom) -> SecureMessagingChannel:
    """Run CA inside the current SM session; the returned channel uses the new keys.

    The chip is authenticated implicitly: only the holder of the DG14 private key can answer
    under the new session keys (ICAO 9303-11 §6.2.3), so the caller reads something next.
    """
    key = chip_key(dg14_content)
    params = key.params
    channel.transmit(mse_set_at()).check("CA MSE:Set AT")
    ephemeral = params.random_scalar(rng)
    point = params.encode_point(params.generator * ephemeral)
    answer = channel.transmit(CommandAPDU(0x00, INS_GENERAL_AUTHENTICATE, 0, 0,
                                          dynamic_data(0x80, point), le=256))
    if answer.sw != SW.OK:
        raise CardError(answer.sw, "CA GENERAL AUTHENTICATE")
    secret = shared_x(ephemeral, params.decode_point(key.point), params)
    return SecureMessagingChannel(channel.sender, session_from_secret(secret))
