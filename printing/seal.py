"""Visible digital seal of the card (ICAO 9303-13): header, message zone, signature zone.

The seal's bytes travel in a QR code as Base45 text (alphanumeric mode, as the EU digital
COVID certificate does), so that any QR decoder, OpenCV's included, returns them intact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

import base45
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from printing import c40
from printing.card_face import CardFace

MAGIC = 0xDC
VERSION_4 = 0x03  # the version byte of VDS version 4 (ICAO 9303-13 §2.2)
FEATURE_DEFINITION = 0x5D  # this issuer's civil-ID profile of the message zone
DOCUMENT_CATEGORY = 0x09
SIGNATURE_TAG = 0xFF
# Message zone tags of the civil-ID profile, and how each value is encoded.
TAGS: dict[int, tuple[str, str]] = {
    0x01: ("document_number", "c40"),
    0x02: ("latin_name", "utf8"),
    0x03: ("arabic_name", "utf8"),
    0x04: ("birth_date", "date"),
    0x05: ("expiry_date", "date"),
    0x06: ("national_number", "c40"),
    0x07: ("sex", "utf8"),
}


class SealError(ValueError):
    """A seal that cannot be decoded or verified; the message says which part and why."""


class SealSigner(Protocol):
    """Signs seals inside a keystore: ECDSA over the data (DER signature) plus its certificate."""

    @property
    def certificate(self) -> x509.Certificate: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class SoftwareSealSigner:
    """A seal signer holding its EC key in memory: the embedded default and the tests' signer."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data, ec.ECDSA(_hash_for(self.private_key.curve)))


@dataclass(frozen=True)
class SealHeader:
    """The VDS header (ICAO 9303-13 §2.2)."""

    issuing_country: str
    signer_id: str
    certificate_reference: str
    issue_date: date
    signature_date: date
    feature_definition: int = FEATURE_DEFINITION
    document_category: int = DOCUMENT_CATEGORY


@dataclass(frozen=True)
class Seal:
    """A decoded seal: header, the message fields, the signed bytes and the signature (r||s)."""

    header: SealHeader
    fields: dict[str, str]
    signed: bytes
    signature: bytes


def _hash_for(curve: ec.EllipticCurve) -> hashes.HashAlgorithm:
    """Hash sized to the curve (BSI TR-03116-2, as ICAO 9303-13 §2.5 refers)."""
    return {256: hashes.SHA256(), 384: hashes.SHA384()}.get(curve.key_size, hashes.SHA512())


def _encode_date(value: date) -> bytes:
    """MMDDYYYY read as a decimal number, in 3 bytes (ICAO 9303-13 §2.3.1)."""
    return int(value.strftime("%m%d%Y")).to_bytes(3, "big")


def _decode_date(data: bytes) -> date:
    if len(data) != 3:
        raise SealError(f"seal: a date takes 3 bytes, got {len(data)}")
    digits = f"{int.from_bytes(data, 'big'):08d}"
    try:
        return date(int(digits[4:]), int(digits[:2]), int(digits[2:4]))
    except ValueError as exc:
        raise SealError(f"seal: {data.hex()} is not a date") from exc


def _length(size: int) -> bytes:
    """BER length (ICAO 9303-13 §2.4: DER TLV lengths)."""
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def certificate_reference(certificate: x509.Certificate) -> str:
    """The certificate reference: the signer certificate's serial number in hex (§2.2)."""
    return f"{certificate.serial_number:X}"


def signer_identifier(certificate: x509.Certificate) -> str:
    """Country (two letters) and two characters naming the signer, from the certificate subject."""
    countries = certificate.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
    country = str(countries[0].value) if countries else "XX"
    return f"{country.upper()}SL"


def _header_bytes(header: SealHeader) -> bytes:
    reference = header.certificate_reference
    signer = f"{header.signer_id}{len(reference):02X}{reference}"
    return (bytes([MAGIC, VERSION_4]) + c40.encode(header.issuing_country) + c40.encode(signer)
            + _encode_date(header.issue_date) + _encode_date(header.signature_date)
            + bytes([header.feature_definition, header.document_category]))


def _message(face: CardFace) -> bytes:
    out = bytearray()
    for tag, (name, kind) in TAGS.items():
        value = getattr(face, name)
        if kind == "c40":
            out += _tlv(tag, c40.encode(str(value)))
        elif kind == "date":
            out += _tlv(tag, _encode_date(value))
        else:
            out += _tlv(tag, str(value).encode("utf-8"))
    return bytes(out)


def make_seal(face: CardFace, signer: SealSigner, issuing_country: str, today: date | None = None) -> bytes:
    """The signed seal bytes: header, message zone, then 0xFF with the signature r||s (§2.5)."""
    header = SealHeader(issuing_country=issuing_country, signer_id=signer_identifier(signer.certificate),
                        certificate_reference=certificate_reference(signer.certificate),
                        issue_date=face.issue_date, signature_date=today or datetime.now(UTC).date())
    signed = _header_bytes(header) + _message(face)
    r, s = decode_dss_signature(signer.sign(signed))
    public = signer.certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise SealError("seal: the signer certificate must hold an EC key")
    size = (public.curve.key_size + 7) // 8
    return signed + _tlv(SIGNATURE_TAG, r.to_bytes(size, "big") + s.to_bytes(size, "big"))


def seal_text(seal: bytes) -> str:
    """The seal as Base45 text for a QR code in alphanumeric mode."""
    return base45.b45encode(seal).decode("ascii")


def _read_length(data: bytes, at: int) -> tuple[int, int]:
    if at >= len(data):
        raise SealError("seal: truncated before a length")
    first = data[at]
    if first < 0x80:
        return first, at + 1
    count = first & 0x7F
    if count == 0 or count > 2 or at + 1 + count > len(data):
        raise SealError("seal: a length field is malformed")
    return int.from_bytes(data[at + 1:at + 1 + count], "big"), at + 1 + count


def _parse_header(data: bytes) -> tuple[SealHeader, int]:
    if len(data) < 4 or data[0] != MAGIC:
        raise SealError("seal: not a visible digital seal (no 0xDC magic byte)")
    if data[1] != VERSION_4:
        raise SealError(f"seal: version byte {data[1]:#04x} is not supported (needs 0x03, VDS v4)")
    country = c40.decode(data[2:4]).strip()
    # The signer id (4) and the reference length (2) come first: 6 characters in 4 bytes.
    head = c40.decode(data[4:8])
    length = int(head[4:6], 16)
    total = 6 + length
    size = 2 * (total // 3) + (2 if total % 3 else 0)
    signer = c40.decode(data[4:4 + size])
    at = 4 + size
    if len(data) < at + 8:
        raise SealError("seal: truncated header")
    header = SealHeader(issuing_country=country, signer_id=signer[:4], certificate_reference=signer[6:total],
                        issue_date=_decode_date(data[at:at + 3]),
                        signature_date=_decode_date(data[at + 3:at + 6]),
                        feature_definition=data[at + 6], document_category=data[at + 7])
    return header, at + 8


def decode_seal(data: bytes) -> Seal:
    """Parse a seal's bytes; any malformed part raises SealError (nothing is trusted yet)."""
    try:
        header, at = _parse_header(data)
        fields: dict[str, str] = {}
        while at < len(data) and data[at] != SIGNATURE_TAG:
            tag = data[at]
            length, start = _read_length(data, at + 1)
            value, at = data[start:start + length], start + length
            if tag not in TAGS or len(value) != length:
                raise SealError(f"seal: unknown or truncated feature tag {tag:#04x}")
            name, kind = TAGS[tag]
            fields[name] = (c40.decode(value) if kind == "c40" else _decode_date(value).isoformat()
                            if kind == "date" else value.decode("utf-8"))
        if at >= len(data):
            raise SealError("seal: no signature zone")
        length, start = _read_length(data, at + 1)
        signature = data[start:start + length]
        if len(signature) != length or start + length != len(data) or length % 2:
            raise SealError("seal: the signature zone is malformed")
    except (c40.C40Error, UnicodeDecodeError, ValueError, IndexError) as exc:
        if isinstance(exc, SealError):
            raise
        raise SealError(f"seal: malformed ({exc})") from exc
    return Seal(header=header, fields=fields, signed=data[:at], signature=signature)


def decode_text(text: str) -> bytes:
    """The seal's bytes from the QR text."""
    try:
        return bytes(base45.b45decode(text.strip()))
    except ValueError as exc:
        raise SealError("seal: the code does not hold Base45 text") from exc


def _signer_for(header: SealHeader, certificates: Iterable[x509.Certificate]) -> x509.Certificate:
    for certificate in certificates:
        if certificate_reference(certificate) == header.certificate_reference:
            return certificate
    raise SealError(f"seal: no signer certificate with reference {header.certificate_reference}")


def _check_chain(signer: x509.Certificate, cscas: Iterable[x509.Certificate], when: date) -> None:
    """The signer certificate is issued by a trusted CSCA and valid on the signature date (9303-12)."""
    moment = datetime(when.year, when.month, when.day, 12, tzinfo=UTC)
    for csca in cscas:
        if csca.subject != signer.issuer:
            continue
        try:
            signer.verify_directly_issued_by(csca)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise SealError(f"seal: the signer certificate is not signed by the CSCA ({exc})") from exc
        for certificate in (signer, csca):
            if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
                raise SealError(f"seal: certificate {certificate.subject.rfc4514_string()} "
                                f"was not valid on {when}")
        return
    raise SealError(f"seal: no trusted CSCA issued {signer.issuer.rfc4514_string()}")


def verify_seal(data: bytes, cscas: list[x509.Certificate], signers: list[x509.Certificate]) -> Seal:
    """Decode, find the signer by its reference, check the chain to a CSCA and the signature."""
    seal = decode_seal(data)
    signer = _signer_for(seal.header, signers)
    _check_chain(signer, cscas, seal.header.signature_date)
    public = signer.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise SealError("seal: the signer certificate must hold an EC key")
    half = len(seal.signature) // 2
    der = encode_dss_signature(int.from_bytes(seal.signature[:half], "big"),
                               int.from_bytes(seal.signature[half:], "big"))
    try:
        public.verify(der, seal.signed, ec.ECDSA(_hash_for(public.curve)))
    except InvalidSignature as exc:
        raise SealError("seal: the signature does not match the data (tampered or wrong signer)") from exc
    return seal
