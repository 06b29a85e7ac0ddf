"""Report files: Arabic extractable in logical order from the PDFs; CSV that round-trips, runs no formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from issuance.reports import (
    MEASURES,
    BatchLine,
    BatchReport,
    ClerkDay,
    DailyReport,
    PrinterDay,
    SpoilReason,
    StationDay,
)
from printing.reports import (
    batch_csv,
    batch_document,
    batch_pdf,
    daily_csv,
    daily_document,
    daily_pdf,
    safe_cell,
)

ARABIC_NAME = "محمد أحمد علي الرازي"
CLERK_AR = "نادية الخطيب"
NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)
DAILY = DailyReport(
    site="HQ", site_name="Head office", day=dt.date(2026, 3, 10), timezone="Asia/Amman",
    starts_at=dt.datetime(2026, 3, 9, 21, tzinfo=dt.UTC), ends_at=dt.datetime(2026, 3, 10, 21, tzinfo=dt.UTC),
    totals={name: 100 + n for n, name in enumerate(MEASURES)},
    stations=(StationDay("S1", 41, 3), StationDay("S2", 42, 0)), printers=(PrinterDay("P1", 77, 2),),
    clerks=(ClerkDay("clerk1", CLERK_AR, 31, 32, 33, 34),
            ClerkDay("mallory", "=cmd|' /C calc'!A0", 1, 0, 0, 0)),
    spoiled=(SpoilReason("write_dg2", "6A82", 3),), generated_at=NOW, generated_by="boss")
BATCH = BatchReport(
    number="HQ-B000007", site="HQ", status="open", printer="P1", stations=("S1", "S2"), created_by="boss",
    created_at=NOW, counts={"batched": 1, "printed": 1},
    lines=(BatchLine("HQ-000000001-7", ARABIC_NAME, "MOHAMMED AHMAD ALI AL-RAZI", "printed", "D00000010",
                     "S2", 1, 2),
           BatchLine("HQ-000000002-5", "سارة حداد", "@SUM(A1:A9)", "batched", "", "-", 0, 0)),
    generated_at=NOW, generated_by="boss")


def _logical(text: str) -> str:
    # Shaped PDFs carry presentation forms (U+FExx); NFKC maps them back to letters.
    return unicodedata.normalize("NFKC", text)


def _pypdf_text(pdf: bytes) -> str:
    return _logical("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def test_daily_pdf_holds_every_figure_and_the_arabic_name() -> None:
    text = _pypdf_text(daily_pdf(DAILY))
    assert CLERK_AR in text
    assert "Daily production report" in text and "تقرير الإنتاج اليومي" in text
    assert "Cards personalized" in text and "البطاقات المخصصة" in text
    lines = set(text.splitlines())
    assert {str(100 + n) for n in range(len(MEASURES))} <= lines
    assert {"41", "42", "77", "31", "32", "33", "34", "write_dg2", "6A82"} <= lines
    assert "day 2026-03-10 (Asia/Amman)" in text


def test_batch_pdf_holds_the_arabic_name_in_logical_order() -> None:
    pdf = batch_pdf(BATCH)
    text = _pypdf_text(pdf)
    assert ARABIC_NAME in text and "سارة حداد" in text
    assert "HQ-000000001-7" in text and "D00000010" in text and "MOHAMMED AHMAD ALI AL-RAZI" in text
    # Drawn shaped (joined forms), never as bare letters that a viewer would show unjoined.
    assert ARABIC_NAME not in "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdftotext_reads_the_arabic_name_in_logical_order(tmp_path: Path) -> None:
    cases = (("batch", batch_pdf(BATCH), ARABIC_NAME), ("daily", daily_pdf(DAILY), CLERK_AR))
    for name, pdf, expected in cases:
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
        assert expected in _logical(out.stdout)


def test_a_long_batch_runs_over_pages_with_the_headings_repeated() -> None:
    lines = tuple(BatchLine(f"HQ-{n:09d}-0", ARABIC_NAME, "NAME", "batched", "", "S1", 0, 0)
                  for n in range(120))
    reader = PdfReader(io.BytesIO(batch_pdf(BatchReport(**{**BATCH.__dict__, "lines": lines}))))
    texts = [_logical(page.extract_text()) for page in reader.pages]
    assert len(texts) > 2 and all("رقم البطاقة" in t for t in texts[1:])
    found = re.findall(r"HQ-\d{9}-0", "\n".join(texts))
    assert found == [line.application_number for line in lines]  # each once, in order, none cut off


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark, for spreadsheet programs"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_daily_csv_round_trips_and_neutralises_formulas() -> None:
    rows = _rows(daily_csv(DAILY))
    assert rows[0] == ["section", "item", "measure", "value"]
    figures = {(section, item, measure): value for section, item, measure, value in rows[1:]}
    totals = [figures[("totals", "", name)] for name in MEASURES]
    assert totals == [str(100 + n) for n in range(len(MEASURES))]
    assert figures[("station", "S1", "personalized")] == "41" and figures[("printer", "P1", "failed")] == "2"
    assert figures[("spoiled", "write_dg2 6A82", "cards")] == "3"
    assert figures[("clerk", "clerk1", "name")] == CLERK_AR
    assert figures[("clerk", "mallory", "name")] == "'=cmd|' /C calc'!A0"
    assert figures[("report", "", "day")] == "2026-03-10"


def test_batch_csv_round_trips_with_arabic_and_no_formula() -> None:
    rows = _rows(batch_csv(BATCH))
    assert rows[0][:4] == ["application_number", "arabic_name", "latin_name", "state"]
    assert rows[1] == ["HQ-000000001-7", ARABIC_NAME, "MOHAMMED AHMAD ALI AL-RAZI", "printed", "D00000010",
                       "S2", "1", "2"]
    assert rows[2][2] == "'@SUM(A1:A9)"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_every_formula_start_gets_an_apostrophe(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell
    assert safe_cell("HQ-1") == "HQ-1" and safe_cell(-1) == -1 and safe_cell("محمد") == "محمد"


def test_documents_name_their_files_and_refuse_other_formats() -> None:
    assert daily_document(DAILY, "csv").filename == "daily-HQ-2026-03-10.csv"
    assert batch_document(BATCH, "pdf").media_type == "application/pdf"
    with pytest.raises(ValueError, match="format: must be one of pdf, csv"):
        daily_document(DAILY, "xlsx")
