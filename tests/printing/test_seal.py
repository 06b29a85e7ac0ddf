"""Visible digital seal: ICAO 9303-13 encoding, signature and chain, read back from images."""

from __future__ import annotations

import random
import subprocess
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from PIL import Image

from issuance.cli.main import main
from printing import c40
from printing.card_face import CardFace
from printing.design import Design, load_design
from printing.render import render_card
from printing.seal import (
    SealError,
    _encode_date,
    decode_seal,
    decode_text,
    make_seal,
    seal_text,
    verify_seal,
)
from tests.printing.conftest import SealPki, make_pki


def test_c40_and_dates_follow_icao_9303_13() -> None:
    # 1600*14 + 40*15 + 16 + 1 for "ABC"; a lone last character is 0xFE then ASCII + 1.
    assert c40.encode("ABC") == (23017).to_bytes(2, "big")
    assert c40.encode("ABCD") == (23017).to_bytes(2, "big") + bytes([0xFE, ord("D") + 1])
    assert c40.encode("AB") == (1600 * 14 + 40 * 15 + 0 + 1).to_bytes(2, "big")
    assert c40.encode("A<B") == c40.encode("A B")
    for text in ("UTO", "UT0000001", "UTSL04", "19850314001", "X"):
        assert c40.decode(c40.encode(text)) == text
    # ICAO 9303-13's own example: 1957-03-25 is 03251957, that is 0x319EF5.
    assert _encode_date(date(1957, 3, 25)) == bytes.fromhex("319EF5")
    with pytest.raises(c40.C40Error):
        c40.encode("a")


def test_seal_round_trip_holds_the_key_data(seal_bytes: bytes, face: CardFace, pki: SealPki) -> None:
    assert seal_bytes[:2] == bytes([0xDC, 0x03])
    seal = verify_seal(seal_bytes, [pki.csca], [pki.signer.certificate])
    assert seal.header.issuing_country == "UTO"
    assert seal.header.certificate_reference == "5EA1"
    assert seal.fields == {
        "document_number": face.document_number, "latin_name": face.latin_name,
        "arabic_name": face.arabic_name, "birth_date": face.birth_date.isoformat(),
        "expiry_date": face.expiry_date.isoformat(), "national_number": face.national_number,
        "sex": face.sex}


def test_openssl_verifies_the_signature_and_the_chain(seal_bytes: bytes, pki: SealPki,
                                                       tmp_path: Path) -> None:
    """An independent verifier: the signed bytes and the r||s signature, checked by openssl."""
    seal = decode_seal(seal_bytes)
    half = len(seal.signature) // 2
    der = encode_dss_signature(int.from_bytes(seal.signature[:half], "big"),
                               int.from_bytes(seal.signature[half:], "big"))
    (tmp_path / "data").write_bytes(seal.signed)
    (tmp_path / "sig").write_bytes(der)
    subprocess.run(["openssl", "x509", "-in", str(pki.signer_pem), "-pubkey", "-noout", "-out",
                    str(tmp_path / "pub.pem")], check=True)
    dgst = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"), "-signature",
                           str(tmp_path / "sig"), str(tmp_path / "data")], capture_output=True, text=True)
    assert dgst.returncode == 0 and "Verified OK" in dgst.stdout
    chain = subprocess.run(["openssl", "verify", "-CAfile", str(pki.csca_pem), str(pki.signer_pem)],
                           capture_output=True, text=True)
    assert chain.returncode == 0, chain.stdout + chain.stderr


def _verify_cli(image: Path, pki: SealPki) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["seal", "verify", str(image), "--csca", str(pki.csca_pem),
                                       "--signer", str(pki.signer_pem)])
    return result.exit_code, result.output


def test_cli_verifies_the_rendered_back(card_files: dict[str, Path], pki: SealPki, face: CardFace) -> None:
    code, output = _verify_cli(card_files["back.png"], pki)
    assert code == 0, output
    assert "seal VALID" in output and face.arabic_name in output and face.document_number in output


def rescan(back: Image.Image, angle: float = 2, seed: int = 7) -> Image.Image:
    """A 300 dpi scan of the printed card: a few degrees of rotation, blur and sensor noise."""
    rng = np.random.default_rng(seed)
    rotated = back.convert("L").rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    grey = np.asarray(rotated, dtype=np.float32)
    grey = cv2.GaussianBlur(grey, (0, 0), 1.0) + rng.normal(0, 8, grey.shape)
    return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("design_name", ["default", "redesign-2027"])
@pytest.mark.parametrize("angle", [2, -2])
def test_cli_verifies_a_simulated_rescan(face: CardFace, seal_bytes: bytes, pki: SealPki, tmp_path: Path,
                                         design_name: str, angle: float) -> None:
    back = render_card(face, load_design(design_name), seal_text=seal_text(seal_bytes)).back
    path = tmp_path / "scan.jpg"
    rescan(back, angle).save(path, quality=85, dpi=(300, 300))
    code, output = _verify_cli(path, pki)
    assert code == 0, output
    assert face.national_number in output


def test_one_changed_byte_is_refused(seal_bytes: bytes, face: CardFace, design: Design, pki: SealPki,
                                     tmp_path: Path) -> None:
    # The birth date's last byte: 1985 becomes 1984, a well-formed seal with a forged date.
    position = seal_bytes.index(_encode_date(face.birth_date)) + 2
    tampered = bytearray(seal_bytes)
    tampered[position] ^= 0x01
    assert decode_seal(bytes(tampered)).fields["birth_date"] != face.birth_date.isoformat()
    with pytest.raises(SealError, match="signature does not match"):
        verify_seal(bytes(tampered), [pki.csca], [pki.signer.certificate])
    path = tmp_path / "tampered.png"
    render_card(face, design, seal_text=seal_text(bytes(tampered))).back.save(path)
    code, output = _verify_cli(path, pki)
    assert code == 1 and "REJECTED" in output


def test_a_signer_from_another_csca_is_refused(face: CardFace, pki: SealPki, tmp_path: Path) -> None:
    rogue = make_pki(tmp_path / "rogue", csca_name="UT CSCA")
    forged = make_seal(face, rogue.signer, "UTO")
    with pytest.raises(SealError, match="not signed by the CSCA"):
        verify_seal(forged, [pki.csca], [rogue.signer.certificate])


def test_image_without_a_code_is_a_clear_error(card_files: dict[str, Path], pki: SealPki,
                                               tmp_path: Path) -> None:
    code, output = _verify_cli(card_files["front.png"], pki)
    assert code == 1 and "no readable QR code" in output
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG not really")
    code, output = _verify_cli(junk, pki)
    assert code == 1 and "not an image" in output


def test_fuzzed_images_are_refused_cleanly(card_files: dict[str, Path], pki: SealPki, tmp_path: Path) -> None:
    """Random bytes, truncated and damaged PNGs: exit 1 with a message, never a traceback."""
    rng = random.Random(1313)
    real = card_files["back.png"].read_bytes()
    path = tmp_path / "fuzz.png"
    for n in range(40):
        if n % 3 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        elif n % 3 == 1:
            data = real[:rng.randrange(8, len(real))]
        else:
            damaged = bytearray(real)
            for _ in range(20):
                damaged[rng.randrange(100, len(damaged))] = rng.randrange(256)
            data = bytes(damaged)
        path.write_bytes(data)
        result = CliRunner().invoke(main, ["seal", "verify", str(path), "--csca", str(pki.csca_pem),
                                           "--signer", str(pki.signer_pem)])
        assert isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code in (0, 1) and ("REJECTED" in result.output or "VALID" in result.output)


def test_fuzzed_seal_bytes_raise_only_seal_errors(seal_bytes: bytes, pki: SealPki) -> None:
    rng = random.Random(9303)
    for _ in range(3000):
        data = bytearray(seal_bytes)
        for _ in range(rng.randint(1, 4)):
            choice = rng.random()
            if choice < 0.5 and data:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif choice < 0.8 and data:
                del data[rng.randrange(len(data)):]
            else:
                data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
        if bytes(data) == seal_bytes:
            continue
        with pytest.raises(SealError):
            verify_seal(bytes(data), [pki.csca], [pki.signer.certificate])


def test_an_independent_decoder_reads_the_seal(card_files: dict[str, Path], seal_bytes: bytes,
                                                 pki: SealPki) -> None:
    """zbar (Debian zbar-tools), not OpenCV, decodes the printed QR to the same verifiable seal."""
    done = subprocess.run(["zbarimg", "--quiet", "--raw", str(card_files["back.png"])], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == seal_text(seal_bytes)
    assert verify_seal(decode_text(done.stdout), [pki.csca], [pki.signer.certificate]).fields


def test_poppler_sees_two_card_size_pages(card_files: dict[str, Path]) -> None:
    info = subprocess.run(["pdfinfo", str(card_files["card.pdf"])], capture_output=True, text=True,
                          check=True).stdout
    assert "Pages:           2" in info
    width, height = (float(v) for v in info.split("Page size:")[1].split("pts")[0].split(" x "))
    assert width == pytest.approx(85.60 * 72 / 25.4, abs=0.3) and height == pytest.approx(53.98 * 72 / 25.4,
                                                                                          abs=0.3)


def test_seal_at_600_dpi_verifies(face: CardFace, design: Design, seal_bytes: bytes, pki: SealPki,
                                  tmp_path: Path) -> None:
    path = tmp_path / "back-600.png"
    render_card(face, design, seal_text=seal_text(seal_bytes), dpi=600).back.save(path)
    code, output = _verify_cli(path, pki)
    assert code == 0, output
