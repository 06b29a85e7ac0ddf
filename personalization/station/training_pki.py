"""A throwaway CSCA, DS and issuing CA in memory, for tests, self-test and training stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from personalization.lds.signer import KeySigner
from personalization.station.ports import HolderSubject, MasterKeyProvider, StationPki


def name(common_name: str, country: str) -> x509.Name:
    """C and CN."""
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, country),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(subject: x509.Name, public_key: ec.EllipticCurvePublicKey, issuer: x509.Name,
                 issuer_key: ec.EllipticCurvePrivateKey, ca: bool, days: int) -> x509.Certificate:
    """A P-256/SHA-256 certificate for a CA (keyCertSign, cRLSign) or an end entity (digitalSignature)."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "encipher_only", "decipher_only"), False)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), True)
               .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca,
                                            **usage), True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False))
    return builder.sign(issuer_key, hashes.SHA256())


class TrainingIssuingCA:
    """Issuing CA with an in-memory key: certifies holder signature keys."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._cert = certificate

    def __repr__(self) -> str:
        return "TrainingIssuingCA(<private key>)"

    @property
    def certificate(self) -> bytes:
        return self._cert.public_bytes(Encoding.DER)

    def certify(self, public_point: bytes, subject: HolderSubject) -> bytes:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_point)
        country = self._cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, str(country)),
                          x509.NameAttribute(NameOID.SERIAL_NUMBER, subject.serial_number),
                          x509.NameAttribute(NameOID.COMMON_NAME, subject.common_name)])
        cert = certificate(name, public, self._cert.subject, self._key, False, 5 * 365)
        return cert.public_bytes(Encoding.DER)


def generate(master_key: bytes, country: str = "UT") -> StationPki:
    """New CSCA, DS under it, and an issuing CA (P-256 keys generated here, never saved)."""
    csca_key, ds_key, ca_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    csca_name = name("Training CSCA", country)
    csca = certificate(csca_name, csca_key.public_key(), csca_name, csca_key, True, 3650)
    ds = certificate(name("Training DS", country), ds_key.public_key(), csca_name, csca_key,
                      False, 365)
    ca_name = name("Training issuing CA", country)
    ca = certificate(ca_name, ca_key.public_key(), ca_name, ca_key, True, 3650)
    return StationPki(MasterKeyProvider(master_key), KeySigner(ds_key, ds),
                      TrainingIssuingCA(ca_key, ca), csca.public_bytes(Encoding.DER))
