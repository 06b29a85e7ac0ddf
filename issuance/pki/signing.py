"""X.509 certificates, CRLs and CMS SignedData whose private key stays in the keystore.

`cryptography`'s builders sign only with a private key object they can read, and a keystore never
hands one out. So a certificate is built with `CertificateBuilder.create_unsigned()` (RFC 9925),
its TBSCertificate gets the issuer's real signature algorithm (asn1crypto re-encodes only that
field), the keystore signs those DER bytes, and asn1crypto wraps TBS, algorithm and signature into
the Certificate (RFC 5280 §4.1). CRLs and CMS are built with asn1crypto the same way. No throwaway
key ever signs anything, and every result is verified with the public key before it is returned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding

from issuance.keystore import Keystore, PublicKey
from issuance.keystore.base import PSS_SALT_LENGTH


class SigningError(RuntimeError):
    """What the keystore signed does not verify: nothing is written."""


def signature_algorithm(public_key: PublicKey) -> algos.SignedDigestAlgorithm:
    """ecdsa-with-SHA256 (RFC 5758 §3.2) or RSASSA-PSS with SHA-256, MGF1-SHA-256 (RFC 4055 §3.1)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    sha256 = {"algorithm": "sha256"}
    return algos.SignedDigestAlgorithm({
        "algorithm": "rsassa_pss",
        "parameters": algos.RSASSAPSSParams({
            "hash_algorithm": sha256,
            "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": sha256},
            "salt_length": PSS_SALT_LENGTH,
        }),
    })


def verify_signature(public: PublicKey, signature: bytes, data: bytes) -> None:
    """Check a signature made with the key's keystore mechanism; raise SigningError if it fails."""
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, data, padding.PSS(padding.MGF1(hashes.SHA256()), PSS_SALT_LENGTH),
                          hashes.SHA256())
    except InvalidSignature as exc:
        raise SigningError("the keystore's signature does not verify with its public key") from exc


def _signed(keystore: Keystore, label: str, data: bytes) -> bytes:
    signature = keystore.sign(label, data)
    verify_signature(keystore.public_key(label), signature, data)
    return signature


def sign_certificate(builder: x509.CertificateBuilder, keystore: Keystore, issuer_label: str
                     ) -> x509.Certificate:
    """The certificate `builder` describes, signed by the keystore key `issuer_label`."""
    algorithm = signature_algorithm(keystore.public_key(issuer_label))
    unsigned = asn1_x509.Certificate.load(builder.create_unsigned().public_bytes(Encoding.DER))
    tbs = unsigned["tbs_certificate"]
    tbs["signature"] = algorithm
    signature = _signed(keystore, issuer_label, tbs.dump(force=True))
    der = asn1_x509.Certificate({
        "tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature,
    }).dump()
    return x509.load_der_x509_certificate(der)


def _time_choice(moment: dt.datetime) -> dict[str, dt.datetime]:
    # RFC 5280 §4.1.2.5 (and RFC 5652 §11.3): UTCTime through 2049, GeneralizedTime from 2050.
    moment = moment.astimezone(dt.UTC).replace(microsecond=0)
    return {"utc_time" if moment.year < 2050 else "general_time": moment}


def _time(moment: dt.datetime) -> asn1_x509.Time:
    return asn1_x509.Time(_time_choice(moment))


@dataclass(frozen=True)
class Revoked:
    """One CRL entry: serial, revocation time and RFC 5280 §5.3.1 reason code."""

    serial: int
    revoked_at: dt.datetime
    reason_code: int


def sign_crl(keystore: Keystore, issuer_label: str, issuer: x509.Certificate, number: int,
             revoked: Sequence[Revoked], this_update: dt.datetime, next_update: dt.datetime
             ) -> x509.CertificateRevocationList:
    """A v2 CRL of `issuer` (RFC 5280 §5.1), with CRL number, AKI and a reason code per entry."""
    algorithm = signature_algorithm(keystore.public_key(issuer_label))
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    fields: dict[str, object] = {
        "version": "v2",
        "signature": algorithm,
        "issuer": asn1_x509.Name.load(issuer.subject.public_bytes()),
        "this_update": _time(this_update),
        "next_update": _time(next_update),
        "crl_extensions": [
            {"extn_id": "authority_key_identifier", "critical": False, "extn_value": {"key_identifier": ski}},
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
        ],
    }
    if revoked:  # RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked
        fields["revoked_certificates"] = [
            {"user_certificate": r.serial, "revocation_date": _time(r.revoked_at),
             "crl_entry_extensions": [{"extn_id": "crl_reason", "critical": False,
                                       "extn_value": r.reason_code}]}
            for r in revoked
        ]
    tbs = asn1_crl.TbsCertList(fields)
    signature = _signed(keystore, issuer_label, tbs.dump())
    der = asn1_crl.CertificateList({
        "tbs_cert_list": tbs, "signature_algorithm": algorithm, "signature": signature,
    }).dump()
    return x509.load_der_x509_crl(der)


def cms_sign(keystore: Keystore, label: str, signer: x509.Certificate, content_type: str,
             content: bytes, signing_time: dt.datetime | None = None) -> bytes:
    """CMS SignedData over `content` (RFC 5652 §5) with the signer's certificate, signed in the keystore."""
    algorithm = signature_algorithm(keystore.public_key(label))
    attrs = cms.CMSAttributes([
        {"type": "content_type", "values": [content_type]},
        {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
        {"type": "signing_time", "values": [cms.Time(_time_choice(signing_time or dt.datetime.now(dt.UTC)))]},
    ])
    # RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF, not as [0].
    signature = _signed(keystore, label, attrs.dump())
    signer_cert = asn1_x509.Certificate.load(signer.public_bytes(Encoding.DER))
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": signer_cert.issuer, "serial_number": signer_cert.serial_number}}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": attrs,
        "signature_algorithm": cms.SignedDigestAlgorithm(algorithm.native),
        "signature": signature,
    })
    signed = cms.SignedData({
        "version": "v3",  # RFC 5652 §5.1: eContentType other than id-data
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": content_type, "content": core.ParsableOctetString(content)},
        "certificates": [signer_cert],
        "signer_infos": [signer_info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
