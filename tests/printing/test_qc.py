"""Quality check: tesseract reads the MRZ from the rendered back; DG1, check digits and the seal agree."""

from __future__ import annotations

import random
from contextlib import nullcontext
from dataclasses import replace

import numpy as np
import pytest

from printing.card_face import CardFace
from printing.design import Design
from printing.mrz import MrzError, compose_td1, td1_checks
from printing.qc import correct_by_check_digits, quality_check, quality_check_scan
from printing.render import RenderedCard, render_card
from printing.samples import sample_face
from printing.seal import make_seal, seal_text
from tests.printing.conftest import SealPki
from tests.printing.test_seal import rescan

ICAO_TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<",
            "7408122F1204159UTO<<<<<<<<<<<6",
            "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def test_td1_composition_matches_the_icao_9303_5_specimen() -> None:
    assert compose_td1(document_code="I", issuing_state="UTO", document_number="D23145890",
                       birth_date="740812", sex="F", expiry_date="120415", nationality="UTO",
                       name="ERIKSSON<<ANNA<MARIA") == ICAO_TD1
    assert all(check.valid for check in td1_checks(ICAO_TD1))
    broken = (ICAO_TD1[0], ICAO_TD1[1][:6] + "3" + ICAO_TD1[1][7:], ICAO_TD1[2])
    assert [c.field for c in td1_checks(broken) if not c.valid] == ["birth_date", "composite"]
    with pytest.raises(MrzError, match="mrz line 2"):
        td1_checks((ICAO_TD1[0], ICAO_TD1[1].lower(), ICAO_TD1[2]))


def test_tesseract_reads_the_mrz_with_every_check_digit_valid(card: RenderedCard, design: Design,
                                                               face: CardFace, pki: SealPki) -> None:
    report = quality_check(card.back, design, face, [pki.csca], [pki.signer.certificate])
    assert report.mrz_read == list(face.mrz)
    assert len(report.checks) == 4 and all(check.valid for check in report.checks)
    assert report.seal_fields["document_number"] == face.document_number
    assert report.passed, report.problems


def test_a_card_that_does_not_match_dg1_fails_qc(design: Design, face: CardFace, pki: SealPki) -> None:
    other = sample_face(2)
    printed = render_card(replace(face, mrz=other.mrz), design,
                          seal_text=seal_text(make_seal(face, pki.signer, "UTO"))).back
    report = quality_check(printed, design, face, [pki.csca], [pki.signer.certificate])
    assert not report.passed
    assert any(problem.startswith("MRZ line 1") for problem in report.problems)


def test_a_card_with_a_foreign_seal_fails_qc(design: Design, face: CardFace, pki: SealPki) -> None:
    foreign = make_seal(sample_face(2), pki.signer, "UTO")
    printed = render_card(face, design, seal_text=seal_text(foreign)).back
    report = quality_check(printed, design, face, [pki.csca], [pki.signer.certificate])
    assert report.mrz_read == list(face.mrz)
    assert any(problem.startswith("seal document_number") for problem in report.problems)


def test_fuzzed_mrz_and_faces_fail_with_named_fields(face: CardFace) -> None:
    """Random MRZ text: a valid TD1 zone or an MrzError naming the line; never another exception."""
    rng = random.Random(95)
    alphabet = "ABCXYZ0189<<< a\u0627\n"
    for _ in range(2000):
        lines = [ICAO_TD1[n % 3] if rng.random() < 0.6 else "".join(rng.choice(alphabet) for _ in
                 range(rng.choice([0, 29, 30, 31]))) for n in range(rng.choice([2, 3, 3, 3, 4]))]
        try:
            checks = td1_checks(lines)
        except MrzError as exc:
            assert str(exc).startswith("mrz")
        else:
            assert len(checks) == 4
        with pytest.raises((MrzError, ValueError)) if lines != list(ICAO_TD1) else nullcontext():
            replace(face, mrz=tuple(lines))
    with pytest.raises(ValueError, match="sex"):
        replace(face, sex="male")
    with pytest.raises(ValueError, match="photo"):
        replace(face, photo=b"")


@pytest.mark.parametrize("angle", [2, -2])
def test_qc_of_a_rescanned_card(card: RenderedCard, design: Design, face: CardFace, pki: SealPki,
                                angle: float) -> None:
    """A 300 dpi scan (rotated, blurred, noisy) registered by the seal, then OCR'd like the render."""
    scan = np.asarray(rescan(card.back, angle))
    report = quality_check_scan(scan, design, face, [pki.csca], [pki.signer.certificate])
    assert report.mrz_read == list(face.mrz), report.problems
    assert report.passed, report.problems
    assert len(report.corrections) <= 1


def test_qc_of_a_scan_without_a_seal_says_so(card: RenderedCard, design: Design, face: CardFace,
                                             pki: SealPki) -> None:
    report = quality_check_scan(np.asarray(card.front.convert("L")), design, face, [pki.csca],
                                [pki.signer.certificate])
    assert not report.passed and "no readable QR code" in report.problems[0]


def test_one_misread_digit_is_put_right_only_when_the_check_digits_agree() -> None:
    good = list(ICAO_TD1)
    assert correct_by_check_digits(good) == (good, [])
    misread = [good[0], good[1][:4] + "4" + good[1][5:], good[2]]  # 740812 read as 740842
    fixed, notes = correct_by_check_digits(misread)
    assert fixed == good and notes == ["line 2 position 5: read 4, taken as 1"]
    # A letter in the name has no check digit: nothing is guessed there.
    name_misread = [good[0], good[1], "ERIKSSON<<ANNA<MARIA<<<<<<<<<K"]
    assert correct_by_check_digits(name_misread) == (name_misread, [])
    # Two misreads are beyond a single substitution: left as read, so QC fails.
    two = [good[0], good[1][:4] + "4" + good[1][5:9] + "7" + good[1][10:], good[2]]
    assert correct_by_check_digits(two) == (two, [])
