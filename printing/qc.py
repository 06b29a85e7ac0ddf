"""Quality check of a printed card: OCR the MRZ band with tesseract, read the seal, compare with DG1."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from cryptography import x509
from PIL import Image

from printing.card_face import CardFace
from printing.design import Design
from printing.mrz import CHAR_HEIGHT_MM, CHAR_PITCH_MM, TD1_LENGTH, Td1Check, td1_checks
from printing.render import box_px, card_pixels, mrz_baselines, seal_symbol_corners
from printing.seal import SealError, verify_seal
from printing.seal import decode_text as seal_bytes
from printing.seal_scan import find_seal, find_seal_text

_WHITELIST = "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
_TIMEOUT = 60
# Field types of a TD1 MRZ (ICAO 9303-5 §4.2.2): 'n' numeric, 'a' alphabetic, 'x' either.
_TYPES = (
    "aa" + "aaa" + "x" * 9 + "n" + "x" * 15,
    "n" * 7 + "a" + "n" * 7 + "aaa" + "x" * 11 + "n",
    "a" * 30,
)
_TO_DIGIT = str.maketrans("OQDIZSB", "0001258")
_TO_LETTER = str.maketrans("01258", "OIZSB")


class QcError(RuntimeError):
    """The check could not run (tesseract missing or failing); not a verdict on the card."""


@dataclass(frozen=True)
class QcReport:
    """What the check read and every way it disagrees with DG1 or the seal."""

    mrz_read: list[str]
    checks: list[Td1Check]
    seal_fields: dict[str, str]
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _cells(back: Image.Image, design: Design, dpi: int) -> list[np.ndarray]:
    """Each of the 90 character cells, cut at the ICAO pitch and padded with white."""
    zone = design.element("back", "mrz")
    # Black and white like the K panel that printed it (tesseract reads clean glyphs far better);
    # a light blur first keeps a scan's noise from breaking the glyph edges (measured best of
    # blur, median, morphology and Otsu variants on simulated scans).
    grey = cv2.GaussianBlur(np.asarray(back.convert("L")), (0, 0), dpi / 300)
    grey = np.where(grey < 128, 0, 255).astype(np.uint8)
    pitch, left = CHAR_PITCH_MM * dpi / 25.4, zone.x * dpi / 25.4
    high, pad = CHAR_HEIGHT_MM * dpi / 25.4, round(dpi / 15)
    cells = []
    for baseline in mrz_baselines(zone, dpi):
        for i in range(TD1_LENGTH):
            x0 = round(left + i * pitch)
            cell = grey[round(baseline - 1.5 * high):round(baseline + 0.35 * high),
                        max(0, x0 - pad // 5):round(x0 + pitch) + pad // 5]
            cells.append(np.pad(cell, pad, constant_values=255))
    return cells


def ocr_mrz(back: Image.Image, design: Design, dpi: int = 300) -> list[str]:
    """The three MRZ lines as tesseract reads them, one character per cell (fixed OCR-B pitch)."""
    with tempfile.TemporaryDirectory(prefix="civid-qc-") as folder:
        names = []
        for n, cell in enumerate(_cells(back, design, dpi)):
            names.append(str(Path(folder) / f"{n:03d}.png"))
            Image.fromarray(cell).save(names[-1])
        listing = Path(folder) / "cells.txt"
        listing.write_text("\n".join(names) + "\n")
        try:
            done = subprocess.run(["tesseract", str(listing), "stdout", "--psm", "10", "-l", "eng",
                                   "-c", _WHITELIST], capture_output=True, text=True, timeout=_TIMEOUT)
        except FileNotFoundError as exc:
            raise QcError("tesseract is missing: install the Debian package tesseract-ocr") from exc
    if done.returncode != 0:
        raise QcError(f"tesseract failed: {done.stderr.strip()[-200:]}")
    chars = [page.strip() for page in done.stdout.split("\f")][: 3 * TD1_LENGTH]
    # A doubled answer ("RR") is one glyph read twice; anything else unreadable is '?'.
    text = "".join(c[0] if c and len(set(c)) == 1 else "?" for c in chars).ljust(3 * TD1_LENGTH, "?")
    return [_by_field_type(text[i * TD1_LENGTH:(i + 1) * TD1_LENGTH], _TYPES[i]) for i in range(3)]


def _by_field_type(line: str, types: str) -> str:
    """OCR-B's O/0, I/1, S/5 pairs resolved by what the field may hold (ICAO 9303-3 §4.3 classes)."""
    fixed = []
    for char, kind in zip(line, types, strict=True):
        if kind == "n":
            char = char.translate(_TO_DIGIT)
        elif kind == "a":
            char = char.translate(_TO_LETTER)
        fixed.append(char)
    return "".join(fixed)


def register_back(scan: np.ndarray, design: Design, dpi: int = 300) -> tuple[Image.Image, str]:
    """A scan of the back put onto the rendered geometry, the seal's corners as anchors; and the seal text."""
    seals = [e for e in design.back.elements if e.kind == "seal"]
    if not seals:
        raise QcError(f"design {design.name}: no seal on the back to register a scan by")
    text, found = find_seal(scan)
    expected = seal_symbol_corners(text, box_px(seals[0], dpi))
    # The bottom-right corner has no finder pattern and is only estimated: a similarity transform
    # (rotation, scale, shift) from the three finder corners is steadier than a perspective one.
    anchors = [0, 1, 3]
    warp, _ = cv2.estimateAffinePartial2D(found[anchors], expected[anchors])
    if warp is None:
        raise SealError("image: the seal's corners do not give a usable card position")
    card = cv2.warpAffine(scan, warp, card_pixels(dpi), flags=cv2.INTER_CUBIC, borderValue=255)
    return Image.fromarray(card), text


def quality_check_scan(scan: np.ndarray, design: Design, face: CardFace, cscas: list[x509.Certificate],
                       signers: list[x509.Certificate], dpi: int = 300) -> QcReport:
    """The quality check on a scan or photo of the printed back (any resolution, a few degrees off)."""
    try:
        back, _ = register_back(scan, design, dpi)
    except SealError as exc:
        return QcReport(mrz_read=[], checks=[], seal_fields={}, problems=[str(exc)])
    return quality_check(back, design, face, cscas, signers, dpi)


def quality_check(back: Image.Image, design: Design, face: CardFace, cscas: list[x509.Certificate],
                  signers: list[x509.Certificate], dpi: int = 300) -> QcReport:
    """OCR the MRZ (every check digit, and equal to DG1), decode and verify the seal, compare both."""
    lines = ocr_mrz(back, design, dpi)
    problems = [f"MRZ line {n}: read {got!r}, DG1 has {want!r}"
                for n, (got, want) in enumerate(zip(lines, face.mrz, strict=True), 1) if got != want]
    try:
        checks = td1_checks(lines)
    except ValueError as exc:
        checks, problems = [], [*problems, f"MRZ unreadable: {exc}"]
    problems += [f"MRZ check digit {c.field}: read {c.found}, computes {c.expected}" for c in checks
                 if not c.valid]
    fields: dict[str, str] = {}
    try:
        fields = verify_seal(seal_bytes(find_seal_text(np.asarray(back.convert("L")))), cscas, signers).fields
    except SealError as exc:
        problems.append(str(exc))
    for name in ("document_number", "national_number", "arabic_name", "latin_name"):
        if fields and fields.get(name) != getattr(face, name):
            problems.append(f"seal {name}: {fields.get(name)!r} differs from {getattr(face, name)!r}")
    return QcReport(mrz_read=lines, checks=checks, seal_fields=fields, problems=problems)
