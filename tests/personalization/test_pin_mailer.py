"""The PIN mailer PDF: PIN and PUK inside the scratch panel, Arabic shaped, nothing logged."""

from __future__ import annotations

import io
import logging
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader

from personalization.lds import profile
from personalization.station.steps import random_digits
from printing.pin_mailer import SCRATCH_PANEL, PinMailer, render_pin_mailer, spool_pin_mailer


def _mailer(pin: str, puk: str) -> PinMailer:
    return PinMailer("D23145890", "ABW BKR MXHMD ALRAZY", "أبو بكر محمد الرازي", "12 شارع الجامعة", pin, puk)


def test_pin_and_puk_are_printed_in_the_scratch_panel(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pin, puk = random_digits(profile.PIN_LENGTH), random_digits(profile.PUK_LENGTH)
    mailer = _mailer(pin, puk)
    pdf = render_pin_mailer(mailer)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: object, tm: list[float], font: object, size: float) -> None:
        if text.strip():
            found["".join(text.split())] = (tm[4], tm[5])

    page.extract_text(visitor_text=visit)
    x, y, w, h = SCRATCH_PANEL
    for secret in (pin, puk):
        assert secret in found, found.keys()
        sx, sy = found[secret]
        assert x <= sx <= x + w and y <= sy <= y + h
    text = page.extract_text()
    assert "D23145890" in text and "ABW BKR MXHMD ALRAZY" in text
    # Arabic goes in as joined presentation forms (shaped), not as isolated letters.
    assert any("\ufe70" <= ch <= "\ufefc" for ch in text)
    assert pin not in repr(mailer) and puk not in repr(mailer)
    assert pin not in caplog.text and puk not in caplog.text


@pytest.mark.parametrize("pin", ["", "12a4", "123", "123456789"])
def test_a_malformed_pin_is_refused(pin: str) -> None:
    with pytest.raises(ValueError, match="pin: must be 4 to 8 digits"):
        _mailer(pin, "12345678")


def test_spooled_mailer_is_private_and_never_overwritten(tmp_path: Path) -> None:
    pdf = render_pin_mailer(_mailer("123456", "12345678"))
    path = spool_pin_mailer(pdf, tmp_path / "spool", "D23145890")
    assert path.read_bytes() == pdf
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "spool").stat().st_mode) == 0o700
    with pytest.raises(FileExistsError):
        spool_pin_mailer(pdf, tmp_path / "spool", "D23145890")
    with pytest.raises(ValueError, match="name"):
        spool_pin_mailer(pdf, tmp_path / "spool", "../x")
