"""Rendering: sizes, K panels, the card PDF, Arabic shaping and the MRZ drawn character for character."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader

from printing.card_face import CardFace
from printing.design import Design, load_design
from printing.fonts import font_path
from printing.mrz import CHAR_PITCH_MM
from printing.render import (
    RenderedCard,
    _mrz_font,
    box_px,
    card_pixels,
    mrz_baselines,
    render_card,
    text_value,
)

MM_TO_PT = 72 / 25.4
MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


def test_sides_k_panels_and_pdf_have_card_geometry(card: RenderedCard) -> None:
    assert card.front.size == card.back.size == (1011, 638)
    assert card.front_k.mode == card.back_k.mode == "1"
    pages = PdfReader(io.BytesIO(card.pdf)).pages
    assert len(pages) == 2
    for page in pages:
        assert float(page.mediabox.width) == pytest.approx(85.6 * MM_TO_PT, abs=0.3)
        assert float(page.mediabox.height) == pytest.approx(53.98 * MM_TO_PT, abs=0.3)


def test_k_panel_holds_black_text_and_mrz_but_not_the_photo(card: RenderedCard, design: Design) -> None:
    k = np.asarray(card.back_k.convert("L"))
    left, top, right, bottom = box_px(design.element("back", "mrz"), 300)
    assert (k[top:bottom, left:right] == 0).mean() > 0.05
    front_k = np.asarray(card.front_k.convert("L"))
    left, top, right, bottom = box_px(design.element("front", "photo"), 300)
    assert (front_k[top:bottom, left:right] == 0).mean() < 0.001
    left, top, right, bottom = box_px(design.element("front", "national_number"), 300)
    assert (front_k[top:bottom, left:right] == 0).mean() > 0.05


def test_600_dpi_doubles_the_pixels(face: CardFace, design: Design) -> None:
    card = render_card(face, design, dpi=600)
    assert card.front.size == card_pixels(600) == (2022, 1275)
    assert read_mrz_by_templates(card.back, design, dpi=600) == list(face.mrz)
    with pytest.raises(ValueError, match="dpi"):
        render_card(face, design, dpi=150)


def _crop(image: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(image.convert("L").crop(box), dtype=np.int16)


def _reference(design: Design, element_id: str, text: str, engine: ImageFont.Layout) -> np.ndarray:
    """The element's text drawn by itself on the side's background, with a given layout engine."""
    element = design.element("front", element_id)
    box = box_px(element, 300)
    size = (box[2] - box[0], box[3] - box[1])
    image = Image.new("RGB", size, design.front.background)
    px = round(element.size * 300 / 72)
    font = ImageFont.truetype(str(font_path(element.font)), px, layout_engine=engine)
    options = {"direction": "rtl", "language": "ar"} if engine == ImageFont.Layout.RAQM else {}
    ImageDraw.Draw(image).text((size[0], size[1] / 2), text, font=font, fill=element.colour, anchor="rm",
                               **options)  # type: ignore[arg-type]
    return np.asarray(image.convert("L"), dtype=np.int16)


def test_arabic_name_is_shaped_right_to_left(card: RenderedCard, face: CardFace, design: Design) -> None:
    drawn = _crop(card.front, box_px(design.element("front", "name_ar"), 300))
    shaped = _reference(design, "name_ar", face.arabic_name, ImageFont.Layout.RAQM)
    basic = _reference(design, "name_ar", face.arabic_name, ImageFont.Layout.BASIC)
    assert np.abs(drawn - shaped).mean() < 0.5
    assert np.abs(drawn - basic).mean() > 5 * max(np.abs(drawn - shaped).mean(), 0.5)
    reversed_name = _reference(design, "name_ar", face.arabic_name[::-1], ImageFont.Layout.RAQM)
    assert np.abs(drawn - reversed_name).mean() > 2


def test_arabic_indic_digits_where_the_design_asks(face: CardFace) -> None:
    redesign = load_design("redesign-2027")
    element = redesign.element("front", "birth_date")
    assert text_value(element, face, redesign.date_format) == face.birth_date.strftime("%d.%m.%Y").translate(
        str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert text_value(load_design().element("front", "birth_date"), face, "%d/%m/%Y") == \
        face.birth_date.strftime("%d/%m/%Y")


def read_mrz_by_templates(back: Image.Image, design: Design, dpi: int = 300) -> list[str]:
    """Read the MRZ cells back from the image by comparing each with every OCR-B glyph."""
    font = _mrz_font(dpi)
    pitch = CHAR_PITCH_MM * dpi / 25.4
    left = design.element("back", "mrz").x * dpi / 25.4
    cell_w, ascent = round(pitch), round(font.getbbox("H", anchor="ls")[1])
    grey = np.asarray(back.convert("L"), dtype=np.int16)
    templates = {}
    for char in MRZ_ALPHABET:
        tile = Image.new("L", (cell_w, -ascent + 4), 255)
        ImageDraw.Draw(tile).text((0, -ascent), char, font=font, fill=0, anchor="ls")
        templates[char] = np.asarray(tile, dtype=np.int16)
    lines = []
    for baseline in mrz_baselines(design.element("back", "mrz"), dpi):
        text = ""
        for i in range(30):
            x, y = round(left + i * pitch), round(baseline + ascent)
            cell = grey[y:y - ascent + 4, x:x + cell_w]
            cell = np.where(cell < 128, 0, 255)
            text += min(templates, key=lambda c, cell=cell: int(np.abs(templates[c] - cell).sum()))
        lines.append(text)
    return lines


def test_mrz_on_back_equals_dg1_character_for_character(card_files: dict[str, Path], face: CardFace,
                                                          design: Design) -> None:
    with Image.open(card_files["back.png"]) as back:
        assert read_mrz_by_templates(back, design) == list(face.mrz)
    other = replace(face, mrz=(face.mrz[0], face.mrz[1], "X" * 30))
    assert read_mrz_by_templates(render_card(other, design).back, design)[2] == "X" * 30
