"""Render a card from a design and a CardFace: colour sides, 1-bit K panels and a card-size PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import segno
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

from printing.arabic_text import pillow_font
from printing.card_face import CardFace
from printing.design import CARD_HEIGHT_MM, CARD_WIDTH_MM, Design, Element
from printing.fonts import font_path
from printing.mrz import CHAR_HEIGHT_MM, CHAR_PITCH_MM, LINE_PITCH_MM

DPI_CHOICES = (300, 600)
BLACK = (0, 0, 0)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_MIN_SHRINK = 0.55
_QUIET_MODULES = 2


@dataclass(frozen=True)
class RenderedCard:
    """Both sides in colour, the black resin panels in 1 bit, and the two-page PDF."""

    front: Image.Image
    back: Image.Image
    front_k: Image.Image
    back_k: Image.Image
    pdf: bytes
    dpi: int

    def write(self, folder: Path) -> dict[str, Path]:
        """front.png, back.png, front-k.png, back-k.png and card.pdf in a folder."""
        folder.mkdir(parents=True, exist_ok=True)
        images = {"front.png": self.front, "back.png": self.back,
                  "front-k.png": self.front_k, "back-k.png": self.back_k}
        paths = {name: folder / name for name in (*images, "card.pdf")}
        for name, image in images.items():
            image.save(paths[name], dpi=(self.dpi, self.dpi), compress_level=1)
        paths["card.pdf"].write_bytes(self.pdf)
        return paths


def card_pixels(dpi: int) -> tuple[int, int]:
    """Pixel size of one side (ID-1 at 300 dpi: 1011 x 638)."""
    return round(CARD_WIDTH_MM * dpi / 25.4), round(CARD_HEIGHT_MM * dpi / 25.4)


def box_px(element: Element, dpi: int) -> tuple[int, int, int, int]:
    """An element's box in pixels: left, top, right, bottom."""
    scale = dpi / 25.4
    return (round(element.x * scale), round(element.y * scale),
            round((element.x + element.w) * scale), round((element.y + element.h) * scale))


def text_value(element: Element, face: CardFace | None, date_format: str) -> str:
    """The string an element shows: its literal text or the face's field, dates in the design's format."""
    if element.text or face is None:
        value = element.text
    else:
        raw = getattr(face, element.field)
        value = raw.strftime(date_format) if isinstance(raw, date) else str(raw)
    return value.translate(ARABIC_INDIC) if element.digits == "arabic-indic" else value


def fitted_font(element: Element, text: str, dpi: int) -> ImageFont.FreeTypeFont:
    """The element's font at its size, shrunk (to 55% at most) until the text fits the box width."""
    size = round(element.size * dpi / 72)
    width = box_px(element, dpi)[2] - box_px(element, dpi)[0]
    direction = "rtl" if element.direction == "rtl" else None
    font = pillow_font(element.font, size)
    while size > element.size * dpi / 72 * _MIN_SHRINK and font.getlength(text, direction=direction) > width:
        size -= 1
        font = pillow_font(element.font, size)
    return font


def draw_text_element(targets: list[Image.Image], element: Element, text: str, dpi: int) -> None:
    """Text in its box, vertically centred; right to left and shaped by raqm when the design says rtl.

    The text is laid out once into a mask, then pasted in its colour on the side and, for black
    text, in black on the K panel.
    """
    left, top, right, bottom = box_px(element, dpi)
    font = fitted_font(element, text, dpi)
    margin = bottom - top  # room for accents and descenders that leave the box
    origin = (left - margin, top - margin)
    mask = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin), 0)
    x = {"left": left, "right": right, "center": (left + right) / 2}[element.align] - origin[0]
    anchor = {"left": "lm", "right": "rm", "center": "mm"}[element.align]
    direction, language = ("rtl", "ar") if element.direction == "rtl" else (None, None)
    ImageDraw.Draw(mask).text((x, (top + bottom) / 2 - origin[1]), text, font=font, fill=255, anchor=anchor,
                              direction=direction, language=language)
    box = (*origin, origin[0] + mask.width, origin[1] + mask.height)
    for n, target in enumerate(targets):
        target.paste(element.colour if n == 0 else 0, box, mask)


@lru_cache(maxsize=8)
def _mrz_font(dpi: int) -> ImageFont.FreeTypeFont:
    """OCR-B sized so that a capital is CHAR_HEIGHT_MM high (ICAO 9303-3 §4.2.2: OCR-B size 1)."""
    probe = ImageFont.truetype(str(font_path("ocr-b")), 100)
    _, top, _, bottom = probe.getbbox("H", anchor="ls")
    size = round(100 * CHAR_HEIGHT_MM * dpi / 25.4 / (bottom - top))
    return ImageFont.truetype(str(font_path("ocr-b")), size)


def mrz_baselines(element: Element, dpi: int) -> list[float]:
    """Baselines of the three MRZ lines, 6 lines per inch, centred in the zone element."""
    scale = dpi / 25.4
    centre = (element.y + element.h / 2) * scale
    half = CHAR_HEIGHT_MM * scale / 2
    return [centre + (n - 1) * LINE_PITCH_MM * scale + half for n in range(3)]


@lru_cache(maxsize=4)
def _mrz_glyphs(dpi: int) -> dict[str, tuple[Image.Image, tuple[int, int]]]:
    """Each OCR-B character's mask and its offset from the pen position, rendered once per dpi."""
    font = _mrz_font(dpi)
    glyphs = {}
    for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<":
        left, top, right, bottom = (round(v) for v in font.getbbox(char, anchor="ls"))
        mask = Image.new("L", (right - left, bottom - top), 0)
        ImageDraw.Draw(mask).text((-left, -top), char, font=font, fill=255, anchor="ls")
        glyphs[char] = (mask, (left, top))
    return glyphs


def draw_mrz(targets: list[Image.Image], element: Element, lines: tuple[str, ...], dpi: int) -> None:
    """The TD1 lines in OCR-B, one character every 2.54 mm (10 per inch, ICAO 9303-3 §4.2.2)."""
    glyphs = _mrz_glyphs(dpi)
    pitch = CHAR_PITCH_MM * dpi / 25.4
    left = element.x * dpi / 25.4
    for baseline, line in zip(mrz_baselines(element, dpi), lines, strict=True):
        for i, char in enumerate(line):
            mask, (dx, dy) = glyphs[char]
            at = (round(left + i * pitch) + dx, round(baseline) + dy)
            for target in targets:
                target.paste(0, (*at, at[0] + mask.width, at[1] + mask.height), mask)


@lru_cache(maxsize=4)
def _qr_modules(text: str) -> np.ndarray:
    """The QR symbol's dark modules; a fixed mask pattern, since choosing the best of eight costs more
    than the rest of the card and decoders read any of them (ISO/IEC 18004 §7.8)."""
    return np.array(segno.make(text, error="m", micro=False, mask=2).matrix, dtype=bool)


def seal_image(text: str, box: tuple[int, int, int, int]) -> tuple[Image.Image, tuple[int, int]]:
    """The seal's QR code at a whole number of pixels per module, centred in the box (L mode)."""
    modules = _qr_modules(text)
    count = modules.shape[0] + 2 * _QUIET_MODULES
    width = min(box[2] - box[0], box[3] - box[1])
    scale = width // count
    if scale < 2:
        raise ValueError(f"seal: the box is too small for a QR code of {modules.shape[0]} modules")
    padded = np.pad(modules, _QUIET_MODULES)
    image = Image.fromarray(np.where(padded, 0, 255).astype(np.uint8), mode="L")
    image = image.resize((count * scale, count * scale), Image.Resampling.NEAREST)
    offset = (box[0] + (box[2] - box[0] - image.width) // 2, box[1] + (box[3] - box[1] - image.height) // 2)
    return image, offset


def seal_symbol_corners(text: str, box: tuple[int, int, int, int]) -> np.ndarray:
    """Where the QR symbol's corners fall on the rendered side (as OpenCV reports them: last pixels)."""
    image, (left, top) = seal_image(text, box)
    modules = len(_qr_modules(text)) + 2 * _QUIET_MODULES
    inset = image.width // modules * _QUIET_MODULES
    near, far = inset, image.width - inset - 1
    return np.array([[left + near, top + near], [left + far, top + near], [left + far, top + far],
                     [left + near, top + far]], dtype=np.float32)


def _open_image(data: bytes, size: tuple[int, int], mode: str) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.draft(mode, size)  # JPEG decodes straight at a reduced scale: much faster.
    return ImageOps.exif_transpose(image).convert(mode)


def _paste_image(canvas: Image.Image, k_panel: Image.Image, element: Element, face: CardFace,
                 dpi: int) -> None:
    left, top, right, bottom = box_px(element, dpi)
    size = (right - left, bottom - top)
    if element.source == "photo":
        canvas.paste(ImageOps.fit(_open_image(face.photo, size, "RGB"), size), (left, top))
    elif element.source == "ghost":
        grey = ImageOps.fit(_open_image(face.photo, size, "L"), size)
        faint = grey.point(lambda v: 255 - (255 - v) * 40 // 100).convert("RGB")
        region = canvas.crop((left, top, right, bottom))
        canvas.paste(ImageChops.multiply(region, faint), (left, top))
    elif element.source == "signature" and face.signature:
        ink = ImageOps.contain(_open_image(face.signature, size, "L"), size)
        at = (left + (size[0] - ink.width) // 2, top + (size[1] - ink.height) // 2)
        region = canvas.crop((*at, at[0] + ink.width, at[1] + ink.height))
        canvas.paste(ImageChops.multiply(region, ink.convert("RGB")), at)
        k_panel.paste(ImageChops.darker(k_panel.crop((*at, at[0] + ink.width, at[1] + ink.height)),
                                        ink.point(lambda v: 0 if v < 128 else 255)), at)


@lru_cache(maxsize=16)
def _emblem(path: Path, size: tuple[int, int]) -> Image.Image:
    return ImageOps.contain(Image.open(path).convert("RGBA"), size)


@lru_cache(maxsize=16)
def _static_layers(design: Design, side: str, dpi: int) -> tuple[Image.Image, Image.Image]:
    """Background, boxes, emblems and literal texts: identical on every card, drawn once."""
    layout = design.side(side)
    canvas = Image.new("RGB", card_pixels(dpi), layout.background)
    k_panel = Image.new("L", card_pixels(dpi), 255)
    draw = ImageDraw.Draw(canvas)
    for element in layout.elements:
        if element.kind == "box":
            draw.rectangle(box_px(element, dpi), fill=element.colour)
        elif element.kind == "image" and element.source == "emblem" and element.file is not None:
            left, top, right, bottom = box_px(element, dpi)
            emblem = _emblem(element.file, (right - left, bottom - top))
            canvas.paste(emblem, (left + (right - left - emblem.width) // 2,
                                  top + (bottom - top - emblem.height) // 2), emblem)
        elif element.kind == "text" and element.text:
            targets = [canvas, k_panel] if element.colour == BLACK else [canvas]
            draw_text_element(targets, element, text_value(element, None, design.date_format), dpi)
    return canvas, k_panel


def render_side(design: Design, side: str, face: CardFace, seal_text: str | None,
                dpi: int) -> tuple[Image.Image, Image.Image]:
    """One side in colour and its K panel (1 bit: black text, MRZ, seal and signature)."""
    base, base_k = _static_layers(design, side, dpi)
    canvas, k_panel = base.copy(), base_k.copy()
    for element in design.side(side).elements:
        if element.kind == "text" and element.field:
            targets = [canvas, k_panel] if element.colour == BLACK else [canvas]
            draw_text_element(targets, element, text_value(element, face, design.date_format), dpi)
        elif element.kind == "image" and element.source != "emblem":
            _paste_image(canvas, k_panel, element, face, dpi)
        elif element.kind == "seal" and seal_text:
            code, at = seal_image(seal_text, box_px(element, dpi))
            canvas.paste(code.convert("RGB"), at)
            k_panel.paste(code, at)
        elif element.kind == "mrz":
            draw_mrz([canvas, k_panel], element, face.mrz, dpi)
    return canvas, k_panel.point(lambda v: 255 if v >= 128 else 0, mode="1")


def card_pdf(front: Image.Image, back: Image.Image, dpi: int) -> bytes:
    """A two-page PDF whose pages are exactly the card size (the image at its resolution)."""
    buf = io.BytesIO()
    front.save(buf, "PDF", save_all=True, append_images=[back], resolution=dpi, quality=92,
               title="Identity card")
    return buf.getvalue()


def render_card(face: CardFace, design: Design, seal_text: str | None = None, dpi: int = 300) -> RenderedCard:
    """Both sides, both K panels and the PDF of one card."""
    if dpi not in DPI_CHOICES:
        raise ValueError(f"dpi: must be one of {DPI_CHOICES}, got {dpi}")
    front, front_k = render_side(design, "front", face, seal_text, dpi)
    back, back_k = render_side(design, "back", face, seal_text, dpi)
    return RenderedCard(front=front, back=back, front_k=front_k, back_k=back_k,
                        pdf=card_pdf(front, back, dpi), dpi=dpi)
