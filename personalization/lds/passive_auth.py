"""Passive authentication of an LDS as an inspection system does it (ICAO 9303-11 §5.1, 9303-12 §7)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import InvalidVersion

from personalization.lds import sod as sod_file


@dataclass
class Verdict:
    """Each check with its outcome; valid only when every one passed."""

    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    ds_certificate: x509.Certificate | None = None

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, ok, detail))
        return ok

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{name}: {detail}" if detail else name for name, ok, detail in self.checks if not ok]

    def to_dict(self) -> dict[str, object]:
        return {"valid": self.valid,
                "checks": [{"check": n, "ok": ok, "detail": d} for n, ok, d in self.checks]}


def _verify_signature(certificate: x509.Certificate, signature: bytes, data: bytes) -> None:
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise InvalidSignature("unsupported key type")


def _issued_by(ds: x509.Certificate, cscas: list[x509.Certificate]) -> x509.Certificate | None:
    for csca in cscas:
        try:
            ds.verify_directly_issued_by(csca)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm, InvalidVersion):
            continue
        return csca
    return None


def _check_chain(verdict: Verdict, ds: x509.Certificate, cscas: list[x509.Certificate],
                 crls: list[x509.CertificateRevocationList], at: datetime) -> None:
    csca = _issued_by(ds, cscas)
    if not verdict.add("DS certificate issued by a trusted CSCA", csca is not None,
                       "" if csca else f"issuer {ds.issuer.rfc4514_string()} not trusted"):
        return
    assert csca is not None
    for name, cert in (("DS", ds), ("CSCA", csca)):
        inside = cert.not_valid_before_utc <= at <= cert.not_valid_after_utc
        verdict.add(f"{name} certificate valid now", inside,
                    "" if inside else f"valid {cert.not_valid_before_utc:%Y-%m-%d} to "
                                      f"{cert.not_valid_after_utc:%Y-%m-%d}")
    for crl in crls:
        if crl.is_signature_valid(csca.public_key()):  # type: ignore[arg-type]
            revoked = crl.get_revoked_certificate_by_serial_number(ds.serial_number)
            verdict.add("DS certificate not revoked", revoked is None,
                        "" if revoked is None else "listed on the CSCA's CRL")


def verify(sod_bytes: bytes, files: dict[int, bytes], cscas: list[x509.Certificate],
           crls: list[x509.CertificateRevocationList] | None = None,
           at: datetime | None = None) -> Verdict:
    """Hashes of every data group read, the SOD signature, and the DS chain to a CSCA."""
    verdict = Verdict()
    try:
        parsed = sod_file.parse(sod_bytes)
    except ValueError as exc:
        verdict.add("EF.SOD decodes", False, str(exc))
        return verdict
    verdict.add("EF.SOD decodes", True)
    if not verdict.add("hash algorithm", parsed.hash_algorithm == "sha256", parsed.hash_algorithm):
        return verdict
    for number, data in sorted(files.items()):
        expected = parsed.hashes.get(number)
        ok = isinstance(expected, bytes) and hmac.compare_digest(hashlib.sha256(data).digest(), expected)
        verdict.add(f"DG{number} hash", ok, "" if ok else "does not match EF.SOD")
    missing = sorted(set(parsed.hashes) - set(files))
    verdict.add("every hashed data group read", not missing,
                "" if not missing else f"not read: {missing}")
    digest = parsed.message_digest if isinstance(parsed.message_digest, bytes) else b""
    verdict.add("message digest", hmac.compare_digest(hashlib.sha256(parsed.content).digest(), digest))
    try:
        ds = x509.load_der_x509_certificate(parsed.ds_certificate)
        ds.public_key()
    except (ValueError, UnsupportedAlgorithm, InvalidVersion) as exc:
        verdict.add("DS certificate decodes", False, str(exc))
        return verdict
    verdict.ds_certificate = ds
    verdict.add("signer is the DS certificate", parsed.signer_names_certificate)
    verdict.add("signer digest algorithm", parsed.signer_digest_algorithm == "sha256",
                str(parsed.signer_digest_algorithm))
    try:
        _verify_signature(ds, parsed.signature, parsed.signed_attrs)
        verdict.add("EF.SOD signature by the DS key", True)
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        verdict.add("EF.SOD signature by the DS key", False, "signature does not verify")
    _check_chain(verdict, ds, cscas, crls or [], at or datetime.now(UTC))
    return verdict
