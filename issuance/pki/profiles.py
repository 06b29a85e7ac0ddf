"""Certificate profiles: ICAO 9303-12 §7.1 (CSCA, Document Signer, Master List Signer), 9303-13 (seal).

Each role says which key it holds, how long its key signs and its certificate lives, and which
extensions it carries (9303-12 §7.1.1 table 6: key usage, basic constraints, private key usage
period, key identifiers, document type list for signers of documents).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from enum import StrEnum

import pycountry
from asn1crypto import core
from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

from issuance.keystore import KeyKind, PublicKey

# ICAO 9303-12 §7.1.1.6 and §9: ICAO's own object identifiers.
ID_ICAO_DOCUMENT_TYPE_LIST = ObjectIdentifier("2.23.136.1.1.6.2")
ID_ICAO_MASTER_LIST_SIGNING_KEY = ObjectIdentifier("2.23.136.1.1.3")
ID_ICAO_CSCA_MASTER_LIST = "2.23.136.1.1.2"
# ICAO 9303-3 codes that are not ISO 3166-1 alpha-3, with the country code their certificates carry.
ICAO_ONLY_CODES = {"D": "DE", "UTO": "UT", "GBD": "GB", "GBN": "GB", "GBO": "GB", "GBP": "GB", "GBS": "GB"}
YEAR = dt.timedelta(days=365)


class Role(StrEnum):
    CSCA = "csca"
    DS = "ds"
    MASTER_LIST_SIGNER = "mls"
    ISSUING_CA = "issuing-ca"
    SEAL = "seal"
    HOLDER = "holder"


@dataclass(frozen=True)
class Profile:
    """What a role's certificate looks like and how long its key may sign."""

    role: Role
    title: str
    kind: KeyKind
    key_usage_period: dt.timedelta
    validity: dt.timedelta
    ca: bool = False
    document_signer: bool = False
    extended_key_usage: tuple[ObjectIdentifier, ...] = ()
    non_repudiation: bool = False


# Key usage periods and validities (9303-12 §5.3): a DS key signs for 3 months and its certificate
# outlives the 10-year cards it signed; the CSCA outlives its last DS certificate.
CARD_LIFETIME = 10 * YEAR
PROFILES = {
    Role.CSCA: Profile(Role.CSCA, "CSCA", KeyKind.RSA3072, 5 * YEAR, 5 * YEAR + CARD_LIFETIME + YEAR,
                       ca=True),
    Role.DS: Profile(Role.DS, "Document Signer", KeyKind.EC_P256, dt.timedelta(days=90),
                     CARD_LIFETIME + dt.timedelta(days=90), document_signer=True),
    Role.MASTER_LIST_SIGNER: Profile(Role.MASTER_LIST_SIGNER, "Master List Signer", KeyKind.EC_P256, YEAR,
                                     2 * YEAR, extended_key_usage=(ID_ICAO_MASTER_LIST_SIGNING_KEY,)),
    Role.ISSUING_CA: Profile(Role.ISSUING_CA, "Citizen Signature CA", KeyKind.EC_P256, 5 * YEAR,
                             5 * YEAR + CARD_LIFETIME, ca=True),
    Role.SEAL: Profile(Role.SEAL, "Seal Signer", KeyKind.EC_P256, YEAR, YEAR + CARD_LIFETIME,
                       document_signer=True),
    Role.HOLDER: Profile(Role.HOLDER, "Holder", KeyKind.EC_P256, CARD_LIFETIME, CARD_LIFETIME,
                         non_repudiation=True),
}


class PkiInputError(ValueError):
    """An input to the PKI breaks a rule; the message names the field."""


def country_code(state: str) -> str:
    """ISO 3166-1 alpha-2 country of an ICAO issuing-state code (X.520 countryName is two letters)."""
    code = state.strip().upper()
    if code in ICAO_ONLY_CODES:
        return ICAO_ONLY_CODES[code]
    country = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    if country is None:
        raise PkiInputError(f"state: {state!r} is not an ICAO 9303-3 issuing state code (e.g. UTO, DEU)")
    return str(country.alpha_2)


def subject(state: str, organization: str, common_name: str) -> x509.Name:
    """C, O and CN: the country is mandatory in every ICAO certificate name (9303-12 §7.1.1.2)."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, country_code(state)),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


class DocumentTypeListSyntax(core.Sequence):
    """ICAO 9303-12 §7.1.1.6: which document types a signer may sign."""

    class _DocTypes(core.SetOf):
        _child_spec = core.PrintableString

    _fields = [("version", core.Integer), ("doc_type_list", _DocTypes)]


def _key_usage(profile: Profile) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not profile.ca, content_commitment=profile.non_repudiation,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        key_cert_sign=profile.ca, crl_sign=profile.ca, encipher_only=False, decipher_only=False)


def serial_number() -> int:
    """A positive random serial of at most 20 octets (RFC 5280 §4.1.2.2)."""
    return secrets.randbits(159) | 1 << 158


def builder(profile: Profile, subject_name: x509.Name, issuer_name: x509.Name, public_key: PublicKey,
            issuer_key: PublicKey, now: dt.datetime, document_types: tuple[str, ...] = ("I",),
            ) -> x509.CertificateBuilder:
    """An unsigned certificate of `profile`, valid from now, with the role's extensions."""
    # Seals and chips carry dates, not times (9303-13 signature date): a certificate valid from the
    # start of its day of issue lets documents signed that day verify on that date.
    start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    b = (x509.CertificateBuilder()
         .subject_name(subject_name).issuer_name(issuer_name).public_key(public_key)
         .serial_number(serial_number())
         .not_valid_before(start).not_valid_after(start + profile.validity)
         .add_extension(_key_usage(profile), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), critical=False)
         .add_extension(x509.PrivateKeyUsagePeriod(start, start + profile.key_usage_period), critical=False))
    if profile.ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    if profile.extended_key_usage:
        b = b.add_extension(x509.ExtendedKeyUsage(list(profile.extended_key_usage)), critical=False)
    if profile.document_signer:
        value = DocumentTypeListSyntax({"version": 0, "doc_type_list": list(document_types)}).dump()
        b = b.add_extension(x509.UnrecognizedExtension(ID_ICAO_DOCUMENT_TYPE_LIST, value), critical=False)
    return b
