"""The document signer port: the keystore signs, the LDS builder only asks (ICAO 9303-12 §5)."""

from __future__ import annotations

from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding


class Signer(Protocol):
    """A DS key and its certificate; sign() returns a DER ECDSA or PKCS#1 v1.5 signature over SHA-256."""

    @property
    def certificate(self) -> bytes:
        """The DS certificate, DER."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Hash data with SHA-256 and sign it with the DS private key."""
        ...


class KeySigner:
    """A Signer over a `cryptography` private key in memory: tests and training stock only."""

    def __init__(self, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, certificate: x509.Certificate
                 ) -> None:
        self._key = key
        self._certificate = certificate.public_bytes(Encoding.DER)

    def __repr__(self) -> str:
        return "KeySigner(<private key>)"

    @property
    def certificate(self) -> bytes:
        return self._certificate

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
