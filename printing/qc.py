"""Quality check of a printed card: OCR the MRZ band with tesseract, read the seal, compare with DG1."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from cryptography import x509
from PIL import Image

from printing.card_face import CardFace
from printing.design import Design
from printing.mrz import CHAR_HEIGHT_MM, CHAR_PITCH_MM, TD1_LENGTH, Td1Check, td1_checks
from printing.render import box_px, card_pixels, mrz_baselines, render_side, seal_symbol_corners
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
# Digits a general-purpose OCR model mixes up on OCR-B; tried only where a check digit fails.
_CONFUSED = {"1": "47", "4": "1", "7": "1", "3": "8", "8": "306", "6": "85", "5": "6", "0": "8", "2": "7",
             "?": "0123456789"}
# Positions covered by check digits: line 1 document number, line 2 dates and their check digits.
_CHECKED = [(0, i) for i in range(5, 15)] + [(1, i) for i in (*range(0, 7), *range(8, 15), 29)]


class QcError(RuntimeError):
    """The check could not run (tesseract missing or failing); not a verdict on the card."""


@dataclass(frozen=True)
class QcReport:
    """What the check read and every way it disagrees with DG1 or the seal."""

    mrz_read: list[str]
    checks: list[Td1Check]
    seal_fields: dict[str, str]
    problems: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _cells(back: Image.Image, design: Design, dpi: int) -> list[np.ndarray]:
    """Each of the 90 character cells, found near its ICAO position and padded with white."""
    zone = design.element("back", "mrz")
    # Black and white like the K panel that printed it (tesseract reads clean glyphs far better);
    # a light blur first keeps a scan's noise from breaking the glyph edges (measured best of
    # blur, median, morphology and Otsu variants on simulated scans).
    ink = cv2.GaussianBlur(np.asarray(back.convert("L")), (0, 0), dpi / 300) < 128
    pitch, left = CHAR_PITCH_MM * dpi / 25.4, zone.x * dpi / 25.4
    high, pad = CHAR_HEIGHT_MM * dpi / 25.4, round(dpi / 15)
    cells = []
    for baseline in mrz_baselines(zone, dpi):
        top, bottom = round(baseline - 1.6 * high), round(baseline + 0.5 * high)
        band = ink[top:bottom]
        rows = np.nonzero(band.sum(axis=1) > 2)[0]
        if rows.size:  # the line where the ink is, not where it should be (a scan is a few px off)
            band = band[max(0, rows[0] - 2):rows[-1] + 3]
        cells += [np.pad(np.where(box, 0, 255).astype(np.uint8), pad, constant_values=255)
                  for box in _glyph_boxes(band, left, pitch)]
    return cells


def _glyph_boxes(band: np.ndarray, left: float, pitch: float) -> list[np.ndarray]:
    """One line's 30 cells: ink columns grouped to the nearest pitch position, cut a pitch wide."""
    columns = band.any(axis=0)
    owner = np.full(columns.shape, -1)
    for x in np.nonzero(columns)[0]:
        index = int((x - left) // pitch)
        if 0 <= index < TD1_LENGTH:
            owner[x] = index
    boxes = []
    for index in range(TD1_LENGTH):
        xs = np.nonzero(owner == index)[0]
        centre = (xs[0] + xs[-1]) / 2 if xs.size else left + (index + 0.5) * pitch
        start = max(0, round(centre - pitch / 2))
        boxes.append(band[:, start:start + round(pitch)])
    return boxes


def _tesseract(cells: list[np.ndarray], psm: int) -> list[str]:
    """One tesseract run over many single-glyph images (a list file): one answer per image."""
    with tempfile.TemporaryDirectory(prefix="civid-qc-") as folder:
        names = []
        for n, cell in enumerate(cells):
            names.append(str(Path(folder) / f"{n:03d}.png"))
            Image.fromarray(cell).save(names[-1])
        listing = Path(folder) / "cells.txt"
        listing.write_text("\n".join(names) + "\n")
        try:
            done = subprocess.run(["tesseract", str(listing), "stdout", "--psm", str(psm), "-l", "eng",
                                   "-c", _WHITELIST], capture_output=True, text=True, timeout=_TIMEOUT)
        except FileNotFoundError as exc:
            raise QcError("tesseract is missing: install the Debian package tesseract-ocr") from exc
    if done.returncode != 0:
        raise QcError(f"tesseract failed: {done.stderr.strip()[-200:]}")
    answers = [page.strip() for page in done.stdout.split("\f")][:len(cells)]
    # A doubled answer ("RR") is one glyph read twice; anything else unreadable is '?'.
    return [a[0] if a and len(set(a)) == 1 else "?" for a in answers + [""] * (len(cells) - len(answers))]


def ocr_mrz(back: Image.Image, design: Design, dpi: int = 300) -> list[str]:
    """The three MRZ lines as tesseract reads them, one character per cell (fixed OCR-B pitch)."""
    cells = _cells(back, design, dpi)
    chars = _tesseract(cells, psm=10)
    # tesseract sometimes returns nothing for a clean isolated glyph: ask again, larger, then as a
    # raw line (measured on simulated scans: each pass recovers some of the rest).
    for scale, psm in ((2, 10), (1, 13), (3, 8)):
        unread = [n for n, char in enumerate(chars) if char == "?"]
        if not unread:
            break
        again = [cv2.resize(cells[n], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
                 for n in unread]
        for n, char in zip(unread, _tesseract(again, psm=psm), strict=True):
            chars[n] = char
    text = "".join(chars)
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


def register_back(scan: np.ndarray, design: Design, face: CardFace | None = None,
                  dpi: int = 300) -> tuple[Image.Image, str]:
    """A scan of the back put onto the rendered geometry, and the seal text.

    Coarse: the seal's finder corners. Fine (when the face is known): ECC alignment on the back
    as it should have been printed, to a fraction of a pixel over the whole card.
    """
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
    if face is not None:
        card = _refine(card, np.asarray(render_side(design, "back", face, text, dpi)[0].convert("L")))
    return Image.fromarray(card), text


def _refine(card: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Affine ECC alignment (Evangelidis and Psarakis) of the registered scan on the expected back."""
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    try:
        _, warp = cv2.findTransformECC(expected.astype(np.float32), card.astype(np.float32), warp,
                                       cv2.MOTION_AFFINE, criteria, None, 5)  # type: ignore[call-overload]
    except cv2.error:
        return card  # no convergence: keep the coarse registration, the OCR will tell
    return cv2.warpAffine(card, warp, card.shape[::-1], flags=cv2.INTER_CUBIC + cv2.WARP_INVERSE_MAP,
                          borderValue=255)


def quality_check_scan(scan: np.ndarray, design: Design, face: CardFace, cscas: list[x509.Certificate],
                       signers: list[x509.Certificate], dpi: int = 300) -> QcReport:
    """The quality check on a scan or photo of the printed back (any resolution, a few degrees off)."""
    try:
        back, _ = register_back(scan, design, face, dpi)
    except SealError as exc:
        return QcReport(mrz_read=[], checks=[], seal_fields={}, problems=[str(exc)])
    return quality_check(back, design, face, cscas, signers, dpi)


def _dates_valid(line: str) -> bool:
    """Birth and expiry dates of TD1 line 2 are real calendar dates (YYMMDD)."""
    try:
        for start in (0, 8):
            datetime.strptime(line[start:start + 6], "%y%m%d")
    except ValueError:
        return False
    return True


def correct_by_check_digits(lines: list[str]) -> tuple[list[str], list[str]]:
    """One misread digit put right when exactly one confusable substitution makes every check digit
    valid (ICAO 9303-3 §4.9: the check digits exist to catch such misreads); the fix is reported."""
    try:
        if all(check.valid for check in td1_checks(lines)):
            return lines, []
    except ValueError:
        pass
    found = []
    for row, col in _CHECKED:
        for other in _CONFUSED.get(lines[row][col], ""):
            trial = list(lines)
            trial[row] = trial[row][:col] + other + trial[row][col + 1:]
            try:
                if _dates_valid(trial[1]) and all(check.valid for check in td1_checks(trial)):
                    note = f"line {row + 1} position {col + 1}: read {lines[row][col]}, taken as {other}"
                    found.append((trial, note))
            except ValueError:
                continue
    if len(found) == 1:
        return found[0][0], [found[0][1]]
    return lines, []


def quality_check(back: Image.Image, design: Design, face: CardFace, cscas: list[x509.Certificate],
                  signers: list[x509.Certificate], dpi: int = 300) -> QcReport:
    """OCR the MRZ (every check digit, and equal to DG1), decode and verify the seal, compare both."""
    lines, corrections = correct_by_check_digits(ocr_mrz(back, design, dpi))
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
    return QcReport(mrz_read=lines, checks=checks, seal_fields=fields, problems=problems,
                    corrections=corrections)
