"""The CSCA master list for inspection systems (ICAO 9303-12 §9): CMS SignedData over CscaMasterList."""

from __future__ import annotations

from collections.abc import Sequence

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from issuance.keystore import Keystore
from issuance.pki.profiles import ID_ICAO_CSCA_MASTER_LIST
from issuance.pki.signing import cms_sign


class CscaMasterList(core.Sequence):
    """CscaMasterList ::= SEQUENCE { version CscaMasterListVersion (v0), certList SET OF Certificate }."""

    class _Certificates(core.SetOf):
        _child_spec = asn1_x509.Certificate

    _fields = [("version", core.Integer), ("cert_list", _Certificates)]


def master_list(keystore: Keystore, signer_label: str, signer: x509.Certificate,
                cscas: Sequence[x509.Certificate]) -> bytes:
    """The DER master list of `cscas`, signed by the Master List Signer in the keystore."""
    certs = [asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in cscas]
    content = CscaMasterList({"version": 0, "cert_list": certs}).dump()
    return cms_sign(keystore, signer_label, signer, ID_ICAO_CSCA_MASTER_LIST, content)
