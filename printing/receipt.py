"""Enrollment receipt PDF: application number, names, photo, date, office and a QR code."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno
from PIL import Image
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from printing.arabic_text import visual_order
from printing.fonts import reportlab_font

PHOTO_SIZE = (35 * mm, 45 * mm)


@dataclass(frozen=True)
class Receipt:
    """What the applicant takes home from the counter."""

    application_number: str
    arabic_name: str
    latin_name: str
    office: str
    issued_at: datetime
    photo: Image.Image | None = None
    office_arabic: str = ""


def _draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """QR code as vector squares (crisp at any printer resolution)."""
    qr = segno.make(data, error="m", micro=False)
    rows = [list(r) for r in qr.matrix]
    quiet = 4
    module = size / (len(rows) + 2 * quiet)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + (c + quiet) * module, y + size - (r + quiet + 1) * module,
                            module, module, stroke=0, fill=1)


def _bilingual_row(
    canvas: Canvas, y: float, label_en: str, label_ar: str, value: str, left: float, right: float
) -> None:
    latin, arabic = reportlab_font("latin"), reportlab_font("arabic")
    canvas.setFont(latin, 8)
    canvas.setFillColorRGB(0.35, 0.35, 0.35)
    canvas.drawString(left, y + 11, label_en)
    canvas.setFont(arabic, 9)
    canvas.drawRightString(right, y + 11, visual_order(label_ar))
    canvas.setFillColorRGB(0, 0, 0)
    if any("\u0600" <= ch <= "\u06ff" for ch in value):
        canvas.setFont(arabic, 14)
        canvas.drawRightString(right, y - 4, visual_order(value))
    else:
        canvas.setFont(latin, 12)
        canvas.drawString(left, y - 3, value)


def render_receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as a one-page A5 PDF (ReportLab; Arabic reshaped and put in display order)."""
    buf = io.BytesIO()
    width, height = A5
    canvas = Canvas(buf, pagesize=A5, pageCompression=1)
    canvas.setTitle(f"Enrollment receipt {receipt.application_number}")
    canvas.setAuthor(receipt.office)
    margin = 14 * mm
    left, right = margin, width - margin
    latin_bold, arabic_bold = reportlab_font("latin-bold"), reportlab_font("arabic-bold")

    canvas.setFont(latin_bold, 14)
    canvas.drawString(left, height - margin - 6, "Enrollment receipt")
    canvas.setFont(arabic_bold, 15)
    canvas.drawRightString(right, height - margin - 6, visual_order("إيصال تسجيل"))
    canvas.setLineWidth(0.6)
    canvas.line(left, height - margin - 14, right, height - margin - 14)

    photo_w, photo_h = PHOTO_SIZE
    photo_top = height - margin - 22
    text_right = right - photo_w - 6 * mm
    if receipt.photo is not None:
        canvas.drawImage(ImageReader(receipt.photo.convert("RGB")), right - photo_w,
                         photo_top - photo_h, photo_w, photo_h)
    canvas.rect(right - photo_w, photo_top - photo_h, photo_w, photo_h, stroke=1, fill=0)

    rows = [
        ("Application number", "رقم الطلب", receipt.application_number),
        ("Name", "الاسم", receipt.arabic_name),
        ("Name (Latin)", "الاسم باللاتينية", receipt.latin_name),
        ("Date", "التاريخ", receipt.issued_at.strftime("%Y-%m-%d %H:%M")),
        ("Office", "المكتب", receipt.office),
    ]
    y = photo_top - 14
    for label_en, label_ar, value in rows:
        _bilingual_row(canvas, y, label_en, label_ar, value, left, text_right)
        y -= 34
    if receipt.office_arabic:
        canvas.setFont(reportlab_font("arabic"), 11)
        canvas.drawRightString(text_right, y + 14, visual_order(receipt.office_arabic))

    qr_size = 38 * mm
    _draw_qr(canvas, receipt.application_number, left, margin + 8 * mm, qr_size)
    canvas.setFont(reportlab_font("latin"), 8)
    canvas.drawString(left + qr_size + 4 * mm, margin + 8 * mm + qr_size / 2,
                      "Keep this receipt; show it when you collect your card.")
    canvas.setFont(reportlab_font("arabic"), 9)
    canvas.drawRightString(right, margin + 8 * mm + qr_size / 2 - 16,
                           visual_order("احتفظ بهذا الإيصال وأبرزه عند استلام بطاقتك."))
    canvas.showPage()
    canvas.save()
    return buf.getvalue()
