"""Batch documents (ReportLab): a proof sheet of every card's two sides, and the batch manifest."""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields
from datetime import datetime

from PIL import Image
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from printing.arabic_text import has_rtl, visual_order
from printing.fonts import reportlab_font

THUMB_WIDTH_MM = 40.0
_THUMB_PX = (320, 202)
_COLUMNS, _ROWS = 3, 5


@dataclass(frozen=True)
class ProofCard:
    """One card on the proof sheet: its number, names and both rendered sides."""

    document_number: str
    arabic_name: str
    latin_name: str
    front: Image.Image
    back: Image.Image


@dataclass(frozen=True)
class BatchInfo:
    batch: str
    printer: str
    operator: str
    produced_at: datetime


@dataclass(frozen=True)
class ManifestRow:
    """One card of a batch, as the manifest lists it."""

    application_number: str
    document_number: str
    chip_serial: str
    arabic_name: str
    latin_name: str
    state: str
    printer: str
    operator: str


def _thumbnail(image: Image.Image) -> ImageReader:
    """A JPEG thumbnail: ReportLab embeds JPEG bytes as they are, which keeps big sheets fast."""
    buf = io.BytesIO()
    image.convert("RGB").resize(_THUMB_PX, Image.Resampling.BILINEAR).save(buf, "JPEG", quality=85)
    buf.seek(0)
    return ImageReader(buf)


def _title(canvas: Canvas, info: BatchInfo, heading: str, heading_ar: str, page: int) -> None:
    width, height = landscape(A4)
    canvas.setFont(reportlab_font("latin-bold"), 12)
    canvas.drawString(12 * mm, height - 12 * mm, f"{heading}: batch {info.batch}")
    canvas.setFont(reportlab_font("arabic-bold"), 12)
    canvas.drawRightString(width - 12 * mm, height - 12 * mm, visual_order(heading_ar))
    canvas.setFont(reportlab_font("latin"), 8)
    canvas.drawString(12 * mm, height - 17 * mm, f"printer {info.printer} · operator {info.operator} · "
                      f"{info.produced_at:%Y-%m-%d %H:%M} · page {page}")


def proof_sheet_pdf(info: BatchInfo, cards: list[ProofCard]) -> bytes:
    """Front and back thumbnails of every card, 15 to an A4 landscape page, names shaped."""
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=landscape(A4), pageCompression=0)
    canvas.setTitle(f"Proof sheet, batch {info.batch}")
    width, height = landscape(A4)
    thumb_w = THUMB_WIDTH_MM * mm
    thumb_h = thumb_w * 53.98 / 85.60
    cell_w, cell_h = (width - 24 * mm) / _COLUMNS, (height - 30 * mm) / _ROWS
    per_page = _COLUMNS * _ROWS
    for start in range(0, max(len(cards), 1), per_page):
        _title(canvas, info, "Proof sheet", "ورقة التدقيق", start // per_page + 1)
        for n, card in enumerate(cards[start:start + per_page]):
            x = 12 * mm + (n % _COLUMNS) * cell_w
            y = height - 22 * mm - (n // _COLUMNS + 1) * cell_h
            canvas.drawImage(_thumbnail(card.front), x, y + 9 * mm, thumb_w, thumb_h)
            canvas.drawImage(_thumbnail(card.back), x + thumb_w + 2 * mm, y + 9 * mm, thumb_w, thumb_h)
            canvas.setFont(reportlab_font("latin-bold"), 7)
            canvas.drawString(x, y + 5 * mm, f"{start + n + 1}. {card.document_number}")
            canvas.setFont(reportlab_font("latin"), 6)
            canvas.drawString(x, y + 1.5 * mm, card.latin_name[:48])
            canvas.setFont(reportlab_font("arabic"), 8)
            canvas.drawRightString(x + 2 * thumb_w + 2 * mm, y + 5 * mm, visual_order(card.arabic_name))
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


_HEADERS = ("Application", "Card", "Chip serial", "الاسم", "Name", "State", "Printer", "Operator")


def manifest_pdf(info: BatchInfo, rows: list[ManifestRow]) -> bytes:
    """The manifest as a table (Arabic shaped and in display order for ReportLab)."""
    buf = io.BytesIO()
    document = SimpleDocTemplate(buf, pagesize=landscape(A4), topMargin=22 * mm, leftMargin=12 * mm,
                                 rightMargin=12 * mm, title=f"Manifest, batch {info.batch}")
    data = [[visual_order(h) for h in _HEADERS]]
    data += [[visual_order(value) if has_rtl(value) else value for value in astuple(row)] for row in rows]
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([
        # Noto Naskh has no Latin letters: the Arabic name column gets its own font.
        ("FONT", (0, 0), (-1, -1), reportlab_font("latin"), 7.5),
        ("FONT", (0, 0), (-1, 0), reportlab_font("latin-bold"), 8),
        ("FONT", (3, 0), (3, -1), reportlab_font("arabic"), 8),
        ("ALIGN", (3, 0), (3, -1), "RIGHT"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4ebee")),
    ]))

    def header(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        _title(canvas, info, "Batch manifest", "بيان الدفعة", doc.page)
        canvas.setFont(reportlab_font("latin"), 8)
        canvas.drawRightString(landscape(A4)[0] - 12 * mm, 10 * mm, f"{len(rows)} cards")

    document.build([table], onFirstPage=header, onLaterPages=header)
    return buf.getvalue()


def manifest_csv(rows: list[ManifestRow]) -> str:
    """The manifest as CSV (UTF-8, one header row of the field names)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f.name for f in fields(ManifestRow)])
    writer.writerows(astuple(row) for row in rows)
    return out.getvalue()
