"""Arabic text for ReportLab (reshape + bidi) and Pillow (raqm layout, right to left)."""

from __future__ import annotations

import re
from functools import lru_cache

import arabic_reshaper
from bidi.algorithm import get_display
from PIL import ImageDraw, ImageFont, features

from printing.fonts import font_path

_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def has_rtl(text: str) -> bool:
    """True if the text holds Hebrew or Arabic script."""
    return bool(_RTL.search(text))


def visual_order(text: str) -> str:
    """Joined letter forms in display order, for renderers without shaping (ReportLab)."""
    if not has_rtl(text):
        return text
    return str(get_display(arabic_reshaper.reshape(text)))


def raqm_available() -> bool:
    """Pillow can shape complex scripts (raqm plus the system FriBiDi, DESIGN.md §9)."""
    return bool(features.check("raqm"))


@lru_cache(maxsize=256)
def pillow_font(role: str, size: int) -> ImageFont.FreeTypeFont:
    """A Pillow font for a role, with the raqm layout engine when it is available."""
    engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(font_path(role)), size, layout_engine=engine)


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: str | tuple[int, ...] = "black",
    anchor: str = "la",
) -> None:
    """Draw text; Arabic is shaped right to left by raqm, or reshaped by hand without it."""
    if not has_rtl(text):
        draw.text(xy, text, font=font, fill=fill, anchor=anchor)
    elif font.layout_engine == ImageFont.Layout.RAQM:
        draw.text(xy, text, font=font, fill=fill, anchor=anchor, direction="rtl", language="ar")
    else:
        draw.text(xy, visual_order(text), font=font, fill=fill, anchor=anchor)
