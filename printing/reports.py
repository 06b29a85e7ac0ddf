"""Production reports as PDF (ReportLab, bilingual headings, Arabic shaped) and CSV (UTF-8 with BOM).

A CSV cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) gets a leading apostrophe, so a name typed at a counter can never become a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import astuple, dataclass, fields

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

from issuance.reports import BatchLine, BatchReport, DailyReport
from printing.arabic_text import has_rtl, visual_order
from printing.fonts import reportlab_font

Label = tuple[str, str]  # (English, Arabic)
Cell = str | int
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("pdf", "csv")
MEDIA_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
ROW_HEIGHT = 15.0  # points: one line of 8-9 pt text with its padding
BOTTOM_MARGIN = 14 * mm

MEASURE_LABELS: dict[str, Label] = {
    "enrolled": ("Applications enrolled", "الطلبات المسجلة"),
    "approved": ("Approved", "الطلبات الموافق عليها"),
    "exceptions": ("Sent to exception review", "الطلبات المحالة إلى مراجعة الاستثناءات"),
    "rejected": ("Rejected", "الطلبات المرفوضة"),
    "batched": ("Batched", "الطلبات المضافة إلى دفعات"),
    "personalized": ("Cards personalized", "البطاقات المخصصة"),
    "spoiled": ("Cards spoiled", "البطاقات التالفة"),
    "printed": ("Cards printed", "البطاقات المطبوعة"),
    "dispatched": ("Dispatched to collection offices", "المرسلة إلى مكاتب الاستلام"),
    "delivered": ("Delivered to holders", "المسلمة إلى أصحابها"),
}
DAILY_TITLE: Label = ("Daily production report", "تقرير الإنتاج اليومي")
BATCH_TITLE: Label = ("Batch report", "تقرير الدفعة")
NONE: Label = ("none", "لا شيء")
STATION_COLUMNS: tuple[Label, ...] = (("Station", "المحطة"), ("Personalized", "المخصصة"),
                                      ("Spoiled", "التالفة"))
PRINTER_COLUMNS: tuple[Label, ...] = (("Printer", "الطابعة"), ("Printed", "المطبوعة"),
                                      ("Failed attempts", "محاولات فاشلة"))
SPOIL_COLUMNS: tuple[Label, ...] = (("Step", "الخطوة"), ("Status word", "كلمة الحالة"), ("Cards", "البطاقات"))
CLERK_COLUMNS: tuple[Label, ...] = (("Clerk", "الموظف"), ("Name", "الاسم"), ("Enrolled", "المسجلة"),
                                    ("Approved", "الموافق عليها"), ("Exceptions", "الاستثناءات"),
                                    ("Rejected", "المرفوضة"))
LINE_COLUMNS: tuple[Label, ...] = (
    ("Application", "رقم الطلب"), ("Name", "الاسم"), ("Name (Latin)", "الاسم باللاتينية"),
    ("State", "الحالة"), ("Card", "رقم البطاقة"), ("Station", "المحطة"), ("Spoiled", "التالفة"),
    ("Print attempts", "محاولات الطباعة"))
STATE_COLUMNS: tuple[Label, ...] = (("State", "الحالة"), ("Applications", "الطلبات"))


# ---------------------------------------------------------------- CSV


def safe_cell(value: Cell) -> Cell:
    """A cell a spreadsheet shows as text: a would-be formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (spreadsheets then read Arabic right), formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def daily_rows(report: DailyReport) -> list[tuple[str, str, str, Cell]]:
    """The daily report as (section, item, measure, value) rows: one figure a row."""
    rows: list[tuple[str, str, str, Cell]] = [
        ("report", "", "site", report.site), ("report", "", "day", report.day.isoformat()),
        ("report", "", "timezone", report.timezone),
        ("report", "", "from_utc", report.starts_at.isoformat()),
        ("report", "", "to_utc", report.ends_at.isoformat())]
    rows += [("totals", "", name, n) for name, n in report.totals.items()]
    rows += [("station", s.station, m, getattr(s, m))
             for s in report.stations for m in ("personalized", "spoiled")]
    rows += [("printer", p.printer, m, getattr(p, m))
             for p in report.printers for m in ("printed", "failed")]
    rows += [("spoiled", f"{r.step} {r.status_word}".strip(), "cards", r.cards) for r in report.spoiled]
    for c in report.clerks:
        rows.append(("clerk", c.username, "name", c.full_name))
        rows += [("clerk", c.username, m, getattr(c, m))
                 for m in ("enrolled", "approved", "exceptions", "rejected")]
    return rows


def daily_csv(report: DailyReport) -> bytes:
    """The daily report as CSV, one figure a row (pivots in any spreadsheet)."""
    return to_csv(("section", "item", "measure", "value"), daily_rows(report))


def batch_csv(report: BatchReport) -> bytes:
    """The batch report as CSV, one application a row."""
    return to_csv([f.name for f in fields(BatchLine)], (astuple(line) for line in report.lines))


# ---------------------------------------------------------------- PDF


def _shown(value: Cell) -> str:
    # One line per cell: every row has the same height, so long tables can be cut into pages ahead.
    text = " ".join(str(value).splitlines())
    return visual_order(text) if has_rtl(text) else text


def _cell_styles(body: Sequence[Sequence[Cell]], first_row: int) -> list[tuple[object, ...]]:
    """Numbers right-aligned; Arabic in the Arabic font, right-aligned (a whole column at once if it can)."""
    style: list[tuple[object, ...]] = []
    arabic = reportlab_font("arabic")
    for c in range(len(body[0]) if body else 0):
        values = [row[c] for row in body]
        rtl = [isinstance(v, str) and has_rtl(v) for v in values]
        if all(isinstance(v, int) for v in values) or all(rtl):
            cells: list[tuple[int, int]] = [(first_row, -1)]
        else:
            cells = [(r, r) for r, is_rtl in enumerate(rtl, start=first_row) if is_rtl]
        for top, bottom in cells:
            if any(rtl):
                style.append(("FONT", (c, top), (c, bottom), arabic, 9))
            style.append(("ALIGN", (c, top), (c, bottom), "RIGHT"))
    return style


def _table(columns: Sequence[Label], rows: Sequence[Sequence[Cell]], width: float | None = None) -> Table:
    """A grid with an English and an Arabic header row; Arabic cells in the Arabic font, right-aligned."""
    body = [list(r) for r in rows] or [[NONE[0], *([""] * (len(columns) - 1))]]
    data = [[c[0] for c in columns], [visual_order(c[1]) for c in columns],
            *([_shown(v) for v in r] for r in body)]
    style = [
        # Noto Naskh has no Latin letters: Arabic cells get their own font.
        ("FONT", (0, 0), (-1, -1), reportlab_font("latin"), 8),
        ("FONT", (0, 0), (-1, 0), reportlab_font("latin-bold"), 8),
        ("FONT", (0, 1), (-1, 1), reportlab_font("arabic-bold"), 8),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#e4ebee")),
        ("ALIGN", (0, 1), (-1, 1), "RIGHT"),
        *_cell_styles(body, 2),
    ]
    widths = [width / len(columns)] * len(columns) if width else None
    table = Table(data, colWidths=widths, repeatRows=2, hAlign="LEFT", rowHeights=[ROW_HEIGHT] * len(data))
    table.setStyle(TableStyle(style))
    return table


def _paged_section(label: Label, columns: Sequence[Label], rows: Sequence[Sequence[Cell]], width: float,
                   frame_height: float) -> list[Flowable]:
    """A long table cut into page-sized tables ahead (ReportLab's own splitting is quadratic in rows)."""
    per_page = int(frame_height // ROW_HEIGHT) - 3  # two header rows, and one row to spare
    heading = _section(label, Spacer(1, 0), width)
    room = frame_height - sum(f.wrap(width, frame_height)[1] for f in heading)
    first = int(room // ROW_HEIGHT) - 3
    if len(rows) <= first:
        return _section(label, _table(columns, rows, width), width)
    story: list[Flowable] = [PageBreak(), *heading, _table(columns, rows[:first], width)]
    for start in range(first, len(rows), per_page):
        story += [PageBreak(), _table(columns, rows[start:start + per_page], width)]
    return story


def _heading(label: Label, width: float) -> Table:
    """A section heading: English at the left, Arabic at the right."""
    table = Table([[label[0], visual_order(label[1])]], colWidths=[width / 2, width / 2])
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (0, 0), reportlab_font("latin-bold"), 10),
        ("FONT", (1, 0), (1, 0), reportlab_font("arabic-bold"), 11),
        ("ALIGN", (1, 0), (1, 0), "RIGHT"), ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), 8),
    ]))
    return table


def _section(label: Label, table: Flowable, width: float) -> list[Flowable]:
    return [_heading(label, width), Spacer(1, 2 * mm), table]


def _header(title: Label, lines: Sequence[str]) -> Callable[[Canvas, SimpleDocTemplate], None]:
    """Each page's top: the bilingual title, then the report's facts, and the page number."""

    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        width, height = doc.pagesize
        canvas.setFont(reportlab_font("latin-bold"), 13)
        canvas.drawString(doc.leftMargin, height - 14 * mm, title[0])
        canvas.setFont(reportlab_font("arabic-bold"), 14)
        canvas.drawRightString(width - doc.rightMargin, height - 14 * mm, visual_order(title[1]))
        canvas.setFont(reportlab_font("latin"), 8)
        for n, line in enumerate(lines):
            canvas.drawString(doc.leftMargin, height - (19 + 4 * n) * mm, line)
        canvas.drawRightString(width - doc.rightMargin, 8 * mm, f"page {doc.page}")

    return draw


def _frame_height(pagesize: tuple[float, float], lines: Sequence[str]) -> float:
    """The height tables get on a page under the header of `lines` (less the frame's padding)."""
    return pagesize[1] - (22 + 4 * len(lines)) * mm - BOTTOM_MARGIN - 12


def _build(title: Label, lines: Sequence[str], story: list[Flowable], pagesize: tuple[float, float]) -> bytes:
    buf = io.BytesIO()
    document = SimpleDocTemplate(buf, pagesize=pagesize, topMargin=(22 + 4 * len(lines)) * mm,
                                 leftMargin=12 * mm, rightMargin=12 * mm, bottomMargin=BOTTOM_MARGIN,
                                 title=f"{title[0]} — {lines[0]}", author="Civil-ID card issuance")
    header = _header(title, lines)
    document.build(story, onFirstPage=header, onLaterPages=header)
    return buf.getvalue()


def _stamp(report: DailyReport | BatchReport) -> str:
    return f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC by {report.generated_by}"


def daily_pdf(report: DailyReport) -> bytes:
    """The daily production report: totals, per station, per printer, spoiled cards, per clerk."""
    width = A4[0] - 24 * mm
    lines = [f"site {report.site} {report.site_name}".strip() + f" · day {report.day.isoformat()} "
             f"({report.timezone})",
             f"from {report.starts_at:%Y-%m-%d %H:%M} to {report.ends_at:%Y-%m-%d %H:%M} UTC",
             _stamp(report)]
    totals = [(MEASURE_LABELS[k][0], report.totals[k], visual_order(MEASURE_LABELS[k][1]))
              for k in report.totals]
    totals_table = Table(totals, colWidths=[width * 0.45, width * 0.1, width * 0.45], hAlign="LEFT")
    totals_table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), reportlab_font("latin"), 9),
        ("FONT", (2, 0), (2, -1), reportlab_font("arabic"), 10),
        ("ALIGN", (1, 0), (2, -1), "RIGHT"), ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
    ]))
    story: list[Flowable] = [
        *_section(("Totals", "المجاميع"), totals_table, width),
        *_section(("Per station", "حسب المحطة"),
                  _table(STATION_COLUMNS, [astuple(s) for s in report.stations], width), width),
        *_section(("Per printer", "حسب الطابعة"),
                  _table(PRINTER_COLUMNS, [astuple(p) for p in report.printers], width), width),
        *_section(("Spoiled cards by reason", "البطاقات التالفة حسب السبب"),
                  _table(SPOIL_COLUMNS, [astuple(r) for r in report.spoiled], width), width),
        *_section(("Per clerk", "حسب الموظف"),
                  _table(CLERK_COLUMNS, [astuple(c) for c in report.clerks], width), width),
    ]
    return _build(DAILY_TITLE, lines, story, A4)


def batch_pdf(report: BatchReport) -> bytes:
    """The batch report: counts by state, then every application with its card and attempts."""
    pagesize = landscape(A4)
    width = pagesize[0] - 24 * mm
    lines = [f"batch {report.number} · site {report.site} · status {report.status}",
             f"printer {report.printer} · stations {', '.join(report.stations) or '-'}",
             f"created {report.created_at:%Y-%m-%d %H:%M} UTC by {report.created_by} · {_stamp(report)}"]
    story: list[Flowable] = [
        *_section(("Applications by state", "الطلبات حسب الحالة"),
                  _table(STATE_COLUMNS, list(report.counts.items()), width), width),
        *_paged_section(("Applications", "الطلبات"), LINE_COLUMNS, [astuple(line) for line in report.lines],
                        width, _frame_height(pagesize, lines)),
    ]
    return _build(BATCH_TITLE, lines, story, pagesize)


@dataclass(frozen=True)
class Document:
    """A rendered report: its bytes, media type and a file name to save it under."""

    filename: str
    media_type: str
    content: bytes


def _document(stem: str, fmt: str, pdf: Callable[[], bytes], csv_: Callable[[], bytes]) -> Document:
    if fmt not in FORMATS:
        raise ValueError(f"format: must be one of {', '.join(FORMATS)}, got {fmt[:20]!r}")
    return Document(f"{stem}.{fmt}", MEDIA_TYPES[fmt], pdf() if fmt == "pdf" else csv_())


def daily_document(report: DailyReport, fmt: str) -> Document:
    """The daily report as a PDF or CSV file."""
    return _document(f"daily-{report.site}-{report.day.isoformat()}", fmt,
                     lambda: daily_pdf(report), lambda: daily_csv(report))


def batch_document(report: BatchReport, fmt: str) -> Document:
    """The batch report as a PDF or CSV file."""
    return _document(f"batch-{report.number}", fmt, lambda: batch_pdf(report), lambda: batch_csv(report))
