"""The LDS builder against independent tools: the `mrz` package, `openssl cms` and `openssl asn1parse`."""

from __future__ import annotations

import dataclasses
import hashlib
import random
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from mrz.checker.td1 import TD1CodeChecker

from personalization.lds import builder, com, dg1, dg2, dg7, dg11, dg12, passive_auth, profile, sod
from personalization.lds.holder import DocumentData, LdsInputError
from personalization.lds.mrz import td1
from personalization.lds.signer import KeySigner
from personalization.station import training_pki
from personalization.station.specimen import document, holder

MASTER = bytes(range(0x40, 0x50))


@pytest.fixture(scope="module")
def lds(pki: training_pki.StationPki) -> builder.Lds:
    return builder.build(document(), holder(), pki.document_signer)


def test_td1_matches_the_icao_example() -> None:
    """ICAO 9303-5 Appendix A: ERIKSSON ANNA MARIA, D23145890."""
    doc = DocumentData("D23145890", "UTO", date(2002, 4, 16), date(2012, 4, 15), "UTO", "I<")
    person = dataclasses.replace(holder(), mrz_name="ERIKSSON<<ANNA<MARIA", sex="F",
                                 birth_date=date(1974, 8, 12), personal_number="")
    mrz = td1(doc, person)
    assert mrz.lines == ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6",
                         "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def test_dg1_mrz_accepted_by_the_mrz_package(lds: builder.Lds) -> None:
    mrz = dg1.parse(lds.files[profile.DG1])
    assert mrz.check_digits_valid()
    checker = TD1CodeChecker("\n".join(mrz.lines))
    assert bool(checker), checker.report
    assert checker.fields().surname == "ALRAZY" and checker.fields().document_number == "D23145890"
    assert lds.files[profile.DG1][:5] == bytes.fromhex("615D5F1F5A")


def test_every_file_is_der_that_openssl_parses(lds: builder.Lds, tmp_path: Path) -> None:
    for f, data in lds.files.items():
        path = tmp_path / f.dump_name
        path.write_bytes(data)
        out = subprocess.run(["openssl", "asn1parse", "-inform", "DER", "-in", str(path)],
                             capture_output=True, text=True, check=True).stdout
        assert out.splitlines()[0].split(":")[0].strip() == "0"
        assert data[0] == f.tag, f.name


def test_files_read_back(lds: builder.Lds) -> None:
    person, doc = holder(), document()
    assert com.data_group_tags(lds.files[profile.EF_COM]) == [0x61, 0x75, 0x67, 0x6B, 0x6C]
    face = dg2.parse(lds.files[profile.DG2])
    assert (face.width, face.height, face.gender) == (240, 320, 1)
    assert dg7.parse(lds.files[profile.DG7]).startswith(b"\xff\xd8")
    details = dg11.parse(lds.files[profile.DG11])
    assert details.full_name == person.full_name_arabic
    assert details.birth_date == person.birth_date and details.address == person.address
    assert "الرازي".encode() in lds.files[profile.DG11]
    issued = dg12.parse(lds.files[profile.DG12])
    assert issued.issuing_authority == doc.issuing_authority and issued.date_of_issue == doc.issue_date


def _csca_pem(pki: training_pki.StationPki, tmp_path: Path) -> Path:
    path = tmp_path / "csca.pem"
    path.write_bytes(x509.load_der_x509_certificate(pki.csca).public_bytes(Encoding.PEM))
    return path


def _openssl_verify(cms: bytes, csca: Path, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "sod.der").write_bytes(cms)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sod.der"),
         "-CAfile", str(csca), "-purpose", "any", "-binary", "-out", str(tmp_path / "so.der")],
        capture_output=True)


def test_openssl_cms_verifies_the_sod(lds: builder.Lds, pki: training_pki.StationPki,
                                      tmp_path: Path) -> None:
    parsed = sod.parse(lds.files[profile.EF_SOD])
    done = _openssl_verify(parsed.cms, _csca_pem(pki, tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    content = sod.LdsSecurityObject.load((tmp_path / "so.der").read_bytes())
    hashes = {h["number"].native: h["hash"].native for h in content["hashes"]}
    assert hashes == {n: hashlib.sha256(d).digest() for n, d in lds.data_groups.items()}
    assert content["hash_algorithm"]["algorithm"].native == "sha256"


def test_openssl_refuses_a_sod_from_another_csca(lds: builder.Lds, tmp_path: Path) -> None:
    other = training_pki.generate(MASTER, "UT")
    done = _openssl_verify(sod.parse(lds.files[profile.EF_SOD]).cms, _csca_pem(other, tmp_path), tmp_path)
    assert done.returncode != 0


def test_passive_authentication(lds: builder.Lds, pki: training_pki.StationPki) -> None:
    csca = [x509.load_der_x509_certificate(pki.csca)]
    verdict = passive_auth.verify(lds.files[profile.EF_SOD], lds.data_groups, csca)
    assert verdict.valid, verdict.failures
    tampered = dict(lds.data_groups)
    tampered[11] = tampered[11].replace("الرازي".encode(), "الرازى".encode())
    verdict = passive_auth.verify(lds.files[profile.EF_SOD], tampered, csca)
    assert verdict.failures == ["DG11 hash: does not match EF.SOD"]
    other = x509.load_der_x509_certificate(training_pki.generate(MASTER).csca)
    verdict = passive_auth.verify(lds.files[profile.EF_SOD], lds.data_groups, [other])
    assert not verdict.valid and verdict.failures[0].startswith("DS certificate issued by")


def test_a_forged_signature_is_refused(lds: builder.Lds, pki: training_pki.StationPki) -> None:
    sod_bytes = bytearray(lds.files[profile.EF_SOD])
    parsed = sod.parse(bytes(sod_bytes))
    at = bytes(sod_bytes).index(parsed.signature)
    sod_bytes[at + 10] ^= 0x01
    verdict = passive_auth.verify(bytes(sod_bytes), lds.data_groups,
                                  [x509.load_der_x509_certificate(pki.csca)])
    assert "EF.SOD signature by the DS key: signature does not verify" in verdict.failures


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("mrz_name", "ALRAZY<<abw", "only A-Z"),
    ("mrz_name", "ALRAZY<<<ABW", "one <"),
    ("mrz_name", "A" * 31, "at most 30"),
    ("sex", "male", "M, F or X"),
    ("nationality", "U1O", "three letters"),
    ("personal_number", "1985-07", "only A-Z"),
    ("full_name_arabic", "  ", "must not be empty"),
    ("face_jpeg", b"\x89PNG", "JPEG"),
])
def test_bad_holder_fields_are_named(field: str, value: object, rule: str) -> None:
    with pytest.raises(LdsInputError) as caught:
        dataclasses.replace(holder(2000), **{field: value})
    assert caught.value.field == field and rule in caught.value.rule


def test_bad_document_fields_are_named() -> None:
    with pytest.raises(LdsInputError, match="document_number: at most 9"):
        dataclasses.replace(document(), document_number="D231458901")
    with pytest.raises(LdsInputError, match="expiry_date: must be after"):
        dataclasses.replace(document(), expiry_date=date(2020, 1, 1))


def test_fuzzed_holder_fields_give_a_valid_mrz_or_a_named_error() -> None:
    rng = random.Random(12)
    alphabet = "ABMZ" * 12 + "<" * 6 + "0a -éب\x00"
    base = holder(2000)
    accepted = 0
    for _ in range(1500):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 34)))
        number = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 17)))
        try:
            person = dataclasses.replace(base, mrz_name=name, personal_number=number)
        except LdsInputError as exc:
            assert exc.field in ("mrz_name", "personal_number")
            continue
        mrz = td1(document(), person)
        assert mrz.check_digits_valid() and len(mrz.text) == 90
        assert bool(TD1CodeChecker("\n".join(mrz.lines)))
        accepted += 1
    assert accepted > 20


def test_malformed_files_raise_value_errors() -> None:
    rng = random.Random(3)
    good = dg11.build(holder(2000))
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            dg11.parse(bytes(data))
        except ValueError:
            continue
    with pytest.raises(ValueError, match="EF.SOD does not decode"):
        sod.parse(b"\x77\x03\x30\x01\x00")
    assert isinstance(core.load(good), core.Asn1Value)


def test_mutated_sods_never_crash_passive_authentication(lds: builder.Lds,
                                                         pki: training_pki.StationPki) -> None:
    rng = random.Random(8)
    csca = [x509.load_der_x509_certificate(pki.csca)]
    good = lds.files[profile.EF_SOD]
    invalid = 0
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            data[at] = (data[at] + rng.randrange(1, 256)) % 256
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        verdict = passive_auth.verify(bytes(data), lds.data_groups, csca)
        invalid += not verdict.valid
    assert invalid > 350


def test_a_revoked_ds_certificate_fails() -> None:
    csca_key, ds_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    csca_name = training_pki.name("CSCA", "UT")
    csca = training_pki.certificate(csca_name, csca_key.public_key(), csca_name, csca_key, True, 30)
    ds = training_pki.certificate(training_pki.name("DS", "UT"), ds_key.public_key(), csca_name, csca_key,
                                  False, 30)
    signed = builder.build(document(), holder(2000), KeySigner(ds_key, ds))
    now = datetime.now(UTC)
    revoked = x509.RevokedCertificateBuilder().serial_number(ds.serial_number).revocation_date(now).build()
    crl = (x509.CertificateRevocationListBuilder().issuer_name(csca_name).last_update(now)
           .next_update(now + timedelta(days=1)).add_revoked_certificate(revoked)
           .sign(csca_key, hashes.SHA256()))
    assert passive_auth.verify(signed.files[profile.EF_SOD], signed.data_groups, [csca]).valid
    verdict = passive_auth.verify(signed.files[profile.EF_SOD], signed.data_groups, [csca], [crl])
    assert verdict.failures == ["DS certificate not revoked: listed on the CSCA's CRL"]
