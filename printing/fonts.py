"""Font files from Debian packages (fonts-noto-core, fonts-ocr-b), for Pillow and ReportLab."""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

NOTO = Path("/usr/share/fonts/truetype/noto")
FONT_FILES: dict[str, tuple[Path, ...]] = {
    "arabic": (NOTO / "NotoNaskhArabic-Regular.ttf", NOTO / "NotoSansArabic-Regular.ttf"),
    "arabic-bold": (NOTO / "NotoNaskhArabic-Bold.ttf", NOTO / "NotoSansArabic-Bold.ttf"),
    "latin": (NOTO / "NotoSans-Regular.ttf",),
    "latin-bold": (NOTO / "NotoSans-Bold.ttf",),
    # OCR-B is CFF-flavoured OpenType: Pillow reads it, ReportLab's TTFont does not.
    "ocr-b": (Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf"),),
}
_registered: set[str] = set()
_lock = threading.Lock()


class FontMissing(RuntimeError):
    """A font the layout needs is not installed; names the Debian package to install."""


def font_path(role: str) -> Path:
    """First installed file for a font role ('arabic', 'latin', 'ocr-b', ...)."""
    for path in FONT_FILES[role]:
        if path.exists():
            return path
    package = "fonts-ocr-b" if role == "ocr-b" else "fonts-noto-core"
    raise FontMissing(f"no font for {role!r}: install the Debian package {package}")


def reportlab_font(role: str) -> str:
    """Register the role's TrueType font with ReportLab once and return its name."""
    name = f"civid-{role}"
    with _lock:
        if name not in _registered:
            pdfmetrics.registerFont(TTFont(name, str(font_path(role))))
            _registered.add(name)
    return name
