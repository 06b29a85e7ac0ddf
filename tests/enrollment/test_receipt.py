"""Receipt PDF: Arabic name extractable in logical order, QR code readable."""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

import cv2
import pytest
from photo_corpus import CorpusSet
from PIL import Image, ImageDraw
from pypdf import PdfReader

from printing.arabic_text import draw_text, pillow_font, visual_order
from printing.receipt import Receipt, render_receipt_pdf

ARABIC_NAME = "محمد أحمد علي الرازي"


@pytest.fixture(scope="module")
def pdf(corpus: CorpusSet) -> bytes:
    return render_receipt_pdf(Receipt(
        application_number="APP-2026-000123",
        arabic_name=ARABIC_NAME,
        latin_name="MOHAMMED AHMAD ALI AL-RAZI",
        office="Amman Central",
        office_arabic="عمان المركزي",
        issued_at=datetime(2026, 11, 28, 10, 30),
        photo=Image.fromarray(corpus.goods["good_default"]),
    ))


def _logical(text: str) -> str:
    # Shaped PDFs carry presentation forms (U+FExx); NFKC maps them back to letters.
    return unicodedata.normalize("NFKC", text)


def test_pypdf_finds_the_arabic_name_in_logical_order(pdf: bytes) -> None:
    text = _logical(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert ARABIC_NAME in text
    assert "APP-2026-000123" in text and "MOHAMMED AHMAD ALI AL-RAZI" in text
    assert "2026-11-28" in text and "Amman Central" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdftotext_finds_the_arabic_name_in_logical_order(pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    assert ARABIC_NAME in _logical(out.stdout)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_qr_code_holds_the_application_number(pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    page = cv2.imread(str(tmp_path / "page.png"))
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(page)
    assert decoded == "APP-2026-000123"


def test_pdf_embeds_the_photo(pdf: bytes) -> None:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) == 1


def test_visual_order_joins_and_reverses_for_unshaped_renderers() -> None:
    shaped = visual_order("محمد")
    assert shaped != "محمد"
    assert _logical(shaped)[::-1] == "محمد"
    assert visual_order("ABC 123") == "ABC 123"


def test_pillow_draws_joined_arabic_right_to_left() -> None:
    font = pillow_font("arabic", 48)
    img = Image.new("L", (400, 100), 255)
    draw_text(ImageDraw.Draw(img), (390, 50), "محمد", font, fill=0, anchor="rm")
    # Right-anchored right-to-left text ends at x=390; joined (shaped) forms are narrower
    # than the same letters set in isolation, which the basic layout engine would draw.
    cols = [x for x in range(400) if min(img.getpixel((x, y)) for y in range(100)) < 128]
    assert cols and 380 <= max(cols) <= 392
    assert font.getlength("محمد", direction="rtl") < sum(font.getlength(c) for c in "محمد")
