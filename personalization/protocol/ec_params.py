"""Standardized ECDH domain parameters and point encoding (ICAO 9303-11 §9.5.1, BSI TR-03111 §3.2)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa import VerifyingKey
from ecdsa.curves import BRAINPOOLP256r1, Curve, NIST256p
from ecdsa.ellipticcurve import INFINITY, PointJacobi

from personalization import tlv

# python-ecdsa ships no type information; its PointJacobi is the point type here.
Point: TypeAlias = Any


@dataclass(frozen=True)
class DomainParameters:
    """One standardized elliptic curve: its PACE parameter id and both libraries' handles."""

    parameter_id: int
    name: str
    oid: str  # the named curve (RFC 5480 §2.1.1.1, RFC 5639 §4.1)
    curve: Curve  # python-ecdsa: arbitrary-generator point arithmetic for the PACE mapping
    crypto_curve: ec.EllipticCurve  # cryptography: keys, ECDH, SubjectPublicKeyInfo

    def __repr__(self) -> str:
        return f"DomainParameters({self.parameter_id}, {self.name})"

    @property
    def order(self) -> int:
        return int(self.curve.order)

    @property
    def size(self) -> int:
        return int(self.curve.baselen)

    @property
    def generator(self) -> Point:
        return self.curve.generator

    def decode_point(self, data: bytes) -> Point:
        """An uncompressed point, checked to lie on the curve; ValueError otherwise."""
        if len(data) != 1 + 2 * self.size or data[0] != 0x04:
            raise ValueError("public key must be an uncompressed point (04 || x || y)")
        try:
            key = VerifyingKey.from_string(data, curve=self.curve, valid_encodings=["uncompressed"])
        except Exception as exc:  # python-ecdsa raises several types for an off-curve point
            raise ValueError(f"point is not on {self.name}") from exc
        point = key.pubkey.point
        return PointJacobi.from_affine(point)

    def encode_point(self, point: Point) -> bytes:
        """04 || x || y, each coordinate on the field size (BSI TR-03111 §3.2.1)."""
        x, y = int(point.x()), int(point.y())
        return b"\x04" + x.to_bytes(self.size, "big") + y.to_bytes(self.size, "big")

    def random_scalar(self, rng: Callable[[int], bytes] = os.urandom) -> int:
        """A private key in [1, n-1] by rejection sampling from the card's or host's RNG."""
        while True:
            k = int.from_bytes(rng(self.size), "big")
            if 0 < k < self.order:
                return k

    def public_key(self, point: Point) -> ec.EllipticCurvePublicKey:
        return ec.EllipticCurvePublicKey.from_encoded_point(self.crypto_curve,
                                                            self.encode_point(point))

    def private_key(self, scalar: int) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(scalar, self.crypto_curve)


NIST_P256 = DomainParameters(12, "NIST P-256", "1.2.840.10045.3.1.7", NIST256p, ec.SECP256R1())
BRAINPOOL_P256R1 = DomainParameters(13, "brainpoolP256r1", "1.3.36.3.3.2.8.1.1.7", BRAINPOOLP256r1,
                                    ec.BrainpoolP256R1())
PARAMETERS = {p.parameter_id: p for p in (NIST_P256, BRAINPOOL_P256R1)}
_BY_CURVE_NAME = {p.crypto_curve.name: p for p in PARAMETERS.values()}


def by_id(parameter_id: int) -> DomainParameters:
    try:
        return PARAMETERS[parameter_id]
    except KeyError:
        raise ValueError(f"unsupported standardized domain parameters {parameter_id}") from None


def for_curve(curve: ec.EllipticCurve) -> DomainParameters:
    try:
        return _BY_CURVE_NAME[curve.name]
    except KeyError:
        raise ValueError(f"unsupported curve {curve.name}") from None


def public_key_do(protocol_oid: bytes, point: bytes) -> bytes:
    """Public key data object 7F49 {06 OID, 86 point} for tokens (ICAO 9303-11 §9.4.5, §4.4.3.5)."""
    return tlv.encode(0x7F49, tlv.encode(0x06, protocol_oid) + tlv.encode(0x86, point))


def shared_x(private: int, peer: Point, params: DomainParameters) -> bytes:
    """ECDH shared secret: the x-coordinate of private * peer (BSI TR-03111 §4.3.1)."""
    product = peer * private
    if product == INFINITY:
        raise ValueError("ECDH produced the point at infinity")
    return int(product.x()).to_bytes(params.size, "big")
