"""EF.SOD: CMS SignedData over the LDS security object, SHA-256 of each data group (ICAO 9303-10 §4.6.2)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, x509

from personalization import tlv
from personalization.lds.asn1 import load
from personalization.lds.signer import Signer

LDS_SECURITY_OBJECT = "2.23.136.1.1.1"


class DataGroupHash(core.Sequence):
    _fields = [("number", core.Integer), ("hash", core.OctetString)]


class DataGroupHashes(core.SequenceOf):
    _child_spec = DataGroupHash


class LdsSecurityObject(core.Sequence):
    """LDSSecurityObject v0 (ICAO 9303-10 §4.6.2.2)."""

    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("hashes", DataGroupHashes),
    ]


class EfSod(core.Sequence):
    """Tag 77 around the CMS ContentInfo."""

    class_ = 1
    tag = 0x17
    _fields = [("content_info", cms.ContentInfo)]


def security_object(data_groups: dict[int, bytes]) -> bytes:
    """DER LDSSecurityObject with SHA-256 of every data group, by number."""
    return LdsSecurityObject({
        "version": 0,
        "hash_algorithm": {"algorithm": "sha256"},
        "hashes": [{"number": n, "hash": hashlib.sha256(data_groups[n]).digest()}
                   for n in sorted(data_groups)],
    }).dump()


def _signature_algorithm(certificate: x509.Certificate) -> str:
    kind = certificate.public_key.algorithm
    if kind == "ec":
        return "sha256_ecdsa"
    if kind == "rsa":
        return "sha256_rsa"
    raise ValueError(f"unsupported DS key type {kind}")


def build(data_groups: dict[int, bytes], signer: Signer, signing_time: datetime | None = None) -> bytes:
    """EF.SOD signed by the DS key through the signer port (RFC 5652 §5, ICAO 9303-10 §4.6.2)."""
    content = security_object(data_groups)
    certificate = x509.Certificate.load(signer.certificate)
    signed_attrs = cms.CMSAttributes([
        {"type": "content_type", "values": [LDS_SECURITY_OBJECT]},
        {"type": "signing_time", "values": [cms.Time(
            name="utc_time", value=signing_time or datetime.now(UTC).replace(microsecond=0))]},
        {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
    ])
    # RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF.
    signature = signer.sign(signed_attrs.dump())
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": certificate.issuer, "serial_number": certificate.serial_number}}),
        "digest_algorithm": {"algorithm": "sha256"},
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": _signature_algorithm(certificate)},
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": LDS_SECURITY_OBJECT, "content": content},
        "certificates": [certificate],
        "signer_infos": [signer_info],
    })
    info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return EfSod({"content_info": info}).dump()


@dataclass(frozen=True)
class SodContents:
    """What EF.SOD carries, parsed but not yet verified."""

    hashes: dict[int, bytes]
    hash_algorithm: str
    content: bytes
    signed_attrs: bytes
    message_digest: bytes
    signature: bytes
    signature_algorithm: str
    signer_digest_algorithm: str
    signer_names_certificate: bool
    ds_certificate: bytes
    cms: bytes


def _names(sid: cms.SignerIdentifier, certificate: x509.Certificate) -> bool:
    """The SignerInfo's identifier designates this certificate (RFC 5652 §5.3)."""
    if sid.name == "issuer_and_serial_number":
        ias = sid.chosen
        return bool(ias["issuer"] == certificate.issuer
                    and ias["serial_number"].native == certificate.serial_number)
    return bool(sid.chosen.native == certificate.key_identifier)


def parse(data: bytes) -> SodContents:
    """Parse EF.SOD; raises ValueError when a required part is missing or malformed."""
    try:
        return _parse(data)
    except (TypeError, KeyError, IndexError, AttributeError) as exc:
        # asn1crypto parses lazily: a malformed inner value surfaces as any of these.
        raise ValueError(f"EF.SOD is malformed: {exc}") from exc


def _parse(data: bytes) -> SodContents:
    info = load(EfSod, data, "EF.SOD")["content_info"]
    if info["content_type"].native != "signed_data":
        raise ValueError("EF.SOD does not hold SignedData")
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != LDS_SECURITY_OBJECT:
        raise ValueError("EF.SOD content is not an LDS security object")
    content = bytes(encap["content"].contents) if encap["content"].native is not None else b""
    so = load(LdsSecurityObject, content, "LDSSecurityObject")
    if len(signed["signer_infos"]) != 1 or not signed["certificates"]:
        raise ValueError("EF.SOD needs one signer and its DS certificate")
    signer = signed["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    if "message_digest" not in attrs:
        raise ValueError("EF.SOD signed attributes lack the message digest")
    if attrs.get("content_type") is None or attrs["content_type"].dotted != LDS_SECURITY_OBJECT:
        raise ValueError("EF.SOD content-type attribute is not the LDS security object")
    # The signature covers the attributes as sent, re-tagged as SET OF (RFC 5652 §5.4).
    signed_attrs = tlv.encode(0x31, signer["signed_attrs"].contents)
    return SodContents(
        hashes={h["number"].native: h["hash"].native for h in so["hashes"]},
        hash_algorithm=so["hash_algorithm"]["algorithm"].native,
        content=content,
        signed_attrs=signed_attrs,
        message_digest=attrs["message_digest"].native,
        signature=signer["signature"].native,
        signature_algorithm=signer["signature_algorithm"].signature_algo,
        signer_digest_algorithm=signer["digest_algorithm"]["algorithm"].native,
        signer_names_certificate=_names(signer["sid"], signed["certificates"][0].chosen),
        ds_certificate=signed["certificates"][0].chosen.dump(),
        cms=info.dump(),
    )
