"""Printing fixtures: a sample card face, a test CSCA with a seal signer, rendered cards."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from printing.card_face import CardFace
from printing.design import Design, load_design
from printing.render import RenderedCard, render_card
from printing.samples import sample_face
from printing.seal import SoftwareSealSigner, make_seal, seal_text
from tests.printing.cups_server import CupsServer


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Civil Status Department"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, issuer_key: ec.EllipticCurvePrivateKey,
          serial: int, ca: bool) -> x509.Certificate:
    """A certificate valid from yesterday for ten years."""
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class SealPki:
    csca: x509.Certificate
    signer: SoftwareSealSigner
    csca_pem: Path
    signer_pem: Path


def make_pki(folder: Path, csca_name: str = "UT CSCA") -> SealPki:
    csca_key = ec.generate_private_key(ec.SECP256R1())
    csca = issue(csca_name, csca_key, csca_name, csca_key, 1, ca=True)
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = issue("UT seal signer", signer_key, csca_name, csca_key, 0x5EA1, ca=False)
    folder.mkdir(parents=True, exist_ok=True)
    csca_pem, signer_pem = folder / "csca.pem", folder / "seal-signer.pem"
    csca_pem.write_bytes(csca.public_bytes(serialization.Encoding.PEM))
    signer_pem.write_bytes(signer_cert.public_bytes(serialization.Encoding.PEM))
    return SealPki(csca, SoftwareSealSigner(signer_key, signer_cert), csca_pem, signer_pem)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SealPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def face() -> CardFace:
    return sample_face(1)


@pytest.fixture(scope="session")
def design() -> Design:
    return load_design()


@pytest.fixture(scope="session")
def seal_bytes(face: CardFace, pki: SealPki) -> bytes:
    return make_seal(face, pki.signer, "UTO")


@pytest.fixture(scope="session")
def card(face: CardFace, design: Design, seal_bytes: bytes) -> RenderedCard:
    return render_card(face, design, seal_text=seal_text(seal_bytes))


@pytest.fixture(scope="session")
def card_files(card: RenderedCard, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return card.write(tmp_path_factory.mktemp("card"))


@pytest.fixture(scope="session")
def cups() -> Iterator[CupsServer]:
    """A real cupsd on loopback (Debian cups, printer-driver-cups-pdf from scripts/lib.sh)."""
    if not CupsServer.available():
        pytest.fail("CUPS is not installed: run scripts/test.sh, which installs cups and cups-pdf")
    # Not under pytest's 0700 tmp folders: CUPS filters run as the lp user and must reach TempDir.
    root = Path(tempfile.mkdtemp(prefix="civid-cups-"))
    root.chmod(0o755)
    server = CupsServer(root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
