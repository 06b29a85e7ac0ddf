"""PIN mailer PDF: the holder's PIN and PUK under a scratch-off panel, bilingual (ReportLab).

A pure function of its inputs: it writes nothing, logs nothing, and keeps no copy of the PIN.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from printing.arabic_text import visual_order
from printing.fonts import reportlab_font

# The panel the mailer house covers with scratch-off foil: where the PIN and PUK are printed.
SCRATCH_PANEL = (20 * mm, 52 * mm, 108 * mm, 34 * mm)  # x, y (from the bottom), width, height


@dataclass(frozen=True)
class PinMailer:
    """Who the letter goes to and what it unlocks; pin and puk never appear in repr."""

    document_number: str
    name_latin: str
    name_arabic: str
    address: str
    pin: str = field(repr=False)
    puk: str = field(repr=False)
    issuer: str = "Civil Status Department"
    issuer_arabic: str = "دائرة الأحوال المدنية"

    def __post_init__(self) -> None:
        for name in ("pin", "puk"):
            value = getattr(self, name)
            if not value.isdigit() or not 4 <= len(value) <= 8:
                raise ValueError(f"{name}: must be 4 to 8 digits")


def _rtl(canvas: Canvas, x: float, y: float, text: str, size: float, bold: bool = False) -> None:
    canvas.setFont(reportlab_font("arabic-bold" if bold else "arabic"), size)
    canvas.drawRightString(x, y, visual_order(text))


def _ltr(canvas: Canvas, x: float, y: float, text: str, size: float, bold: bool = False) -> None:
    canvas.setFont(reportlab_font("latin-bold" if bold else "latin"), size)
    canvas.drawString(x, y, text)


def _panel(canvas: Canvas, mailer: PinMailer) -> None:
    x, y, w, h = SCRATCH_PANEL
    canvas.setDash(3, 2)
    canvas.roundRect(x, y, w, h, 3 * mm, stroke=1, fill=0)
    canvas.setDash()
    _ltr(canvas, x + 5 * mm, y + h - 9 * mm, "PIN", 10, bold=True)
    _rtl(canvas, x + w - 5 * mm, y + h - 9 * mm, "الرقم السري", 10, bold=True)
    canvas.setFont(reportlab_font("latin-bold"), 20)
    canvas.drawCentredString(x + w / 2, y + h - 11 * mm, " ".join(mailer.pin))
    _ltr(canvas, x + 5 * mm, y + 6 * mm, "PUK", 10, bold=True)
    _rtl(canvas, x + w - 5 * mm, y + 6 * mm, "رمز فك الحظر", 10, bold=True)
    canvas.setFont(reportlab_font("latin-bold"), 14)
    canvas.drawCentredString(x + w / 2, y + 5 * mm, " ".join(mailer.puk))


def render_pin_mailer(mailer: PinMailer) -> bytes:
    """One A5 page: address block, instructions in English and Arabic, the scratch panel."""
    buf = io.BytesIO()
    width, height = A5
    canvas = Canvas(buf, pagesize=A5, pageCompression=1)
    canvas.setTitle(f"PIN mailer {mailer.document_number}")
    canvas.setAuthor(mailer.issuer)
    left, right, top = 14 * mm, width - 14 * mm, height - 16 * mm
    _ltr(canvas, left, top, mailer.issuer, 12, bold=True)
    _rtl(canvas, right, top, mailer.issuer_arabic, 13, bold=True)
    canvas.line(left, top - 6, right, top - 6)
    _ltr(canvas, left, top - 24, mailer.name_latin, 11)
    _rtl(canvas, right, top - 24, mailer.name_arabic, 12)
    _rtl(canvas, right, top - 42, mailer.address, 10)
    _ltr(canvas, left, top - 62, f"Card number {mailer.document_number}", 10)
    _rtl(canvas, right, top - 62, "رقم البطاقة " + mailer.document_number, 10)
    lines = [
        ("Your card's signature PIN and unblocking code (PUK) are under the panel below.",
         "الرقم السري لتوقيع بطاقتك ورمز فك الحظر تحت اللوحة أدناه."),
        ("Scratch it only when you have your card. Never write the PIN on the card.",
         "اكشطها فقط عند استلام بطاقتك. لا تكتب الرقم السري على البطاقة."),
        ("Three wrong PINs block signing; the PUK unblocks it.",
         "ثلاث محاولات خاطئة تحظر التوقيع؛ رمز فك الحظر يعيد تفعيله."),
    ]
    y = top - 90
    for english, arabic in lines:
        _ltr(canvas, left, y, english, 8)
        _rtl(canvas, right, y - 12, arabic, 9)
        y -= 30
    _panel(canvas, mailer)
    _ltr(canvas, left, 16 * mm, "Destroy this letter after memorising the PIN.", 8)
    _rtl(canvas, right, 10 * mm, "أتلف هذه الرسالة بعد حفظ الرقم السري.", 9)
    canvas.showPage()
    canvas.save()
    return buf.getvalue()


def spool_pin_mailer(pdf: bytes, spool: Path, name: str) -> Path:
    """Write a mailer into the station's spool: 0600 in a 0700 folder (DESIGN §8), never replaced."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError("name: a plain file name is required")
    spool.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(spool, 0o700)
    path = spool / f"{name}.pdf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    return path
