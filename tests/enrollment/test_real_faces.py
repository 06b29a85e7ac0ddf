"""Photo checks on real faces: three people, every size and encoding, every defect on its check."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from photo_corpus import PEOPLE, Frame, RealFaces
from PIL import Image
from real_faces import moustache

from enrollment.photo.checks import QualityReport, assess_photo
from enrollment.photo.intake import decode_image
from enrollment.photo.landmarks import find_landmarks
from enrollment.photo.thresholds import DEFAULT_THRESHOLDS

NAMES = [p.name for p in PEOPLE]
DEFECTS = ["too_small", "off_centre", "rolled", "turned", "dark", "blurred", "busy_background",
           "mouth_open", "eyes_closed"]


@pytest.fixture(scope="module")
def good_reports(real_faces: dict[str, RealFaces]) -> dict[str, QualityReport]:
    return {name: assess_photo(decode_image(data))
            for faces in real_faces.values() for name, data in faces.goods().items()}


@pytest.fixture(scope="module")
def defect_reports(real_faces: dict[str, RealFaces]) -> dict[str, tuple[str, QualityReport]]:
    return {name: (check, assess_photo(Image.fromarray(arr)))
            for faces in real_faces.values() for name, (check, arr) in faces.defects().items()}


def test_three_real_people_in_every_size_and_encoding(good_reports: dict[str, QualityReport]) -> None:
    assert len(NAMES) >= 3
    assert len(good_reports) == len(NAMES) * 2 * 6


@pytest.mark.parametrize("person", NAMES)
def test_every_compliant_real_portrait_passes(person: str, good_reports: dict[str, QualityReport]) -> None:
    failures = {name: r.failed() for name, r in good_reports.items()
                if name.startswith(person) and not r.passed}
    assert failures == {}


@pytest.mark.parametrize("person", NAMES)
def test_re_encoding_keeps_verdict_and_head_measures(person: str,
                                                     good_reports: dict[str, QualityReport]) -> None:
    for size in ("600x800", "413x531"):
        mine = {n: r for n, r in good_reports.items() if n.startswith(f"{person}_{size}")}
        reference = mine[f"{person}_{size}_png"]
        for name, report in mine.items():
            assert report.passed == reference.passed, name
            for check in ("head_height", "eye_line", "centring"):
                value, ref = report.check(check).value, reference.check(check).value
                assert value is not None and ref is not None
                assert abs(value - ref) <= 0.02 * ref, (name, check, value, ref)


@pytest.mark.parametrize("person", NAMES)
@pytest.mark.parametrize("defect", DEFECTS)
def test_real_defect_fails_on_its_named_check(person: str, defect: str,
                                              defect_reports: dict[str, tuple[str, QualityReport]]) -> None:
    expected, report = defect_reports[f"{person}_{defect}"]
    check = report.check(expected)
    assert not check.passed
    assert check.reason != "ok" and check.reason_ar and check.reason_ar != "مقبول"


def test_confusion_matrix_on_real_faces(good_reports: dict[str, QualityReport],
                                        defect_reports: dict[str, tuple[str, QualityReport]]) -> None:
    """Rows: real-face samples; X = failed check. Printed for the issue note (pytest -s)."""
    names = [c.name for c in next(iter(good_reports.values())).checks]
    lines = ["sample".ljust(34) + " ".join(n[:6].ljust(6) for n in names)]
    rows = [(n, "-", r) for n, r in good_reports.items()]
    rows += [(n, e, r) for n, (e, r) in defect_reports.items()]
    for name, expected, report in rows:
        failed = set(report.failed())
        lines.append(name.ljust(34) + " ".join(("X" if c in failed else ".").ljust(6) for c in names))
        assert (expected in failed) if expected != "-" else not failed
    print("\n" + "\n".join(lines))


def test_measures_report_their_landmark_points(good_reports: dict[str, QualityReport]) -> None:
    report = good_reports["grace_hopper_600x800_png"]
    for name in ("head_height", "eye_distance", "roll", "yaw", "eyes_open", "mouth_closed"):
        assert report.check(name).points, name
    guides = report.guides
    crown, chin = guides["crown"], guides["chin"]
    assert isinstance(crown, tuple) and isinstance(chin, tuple)
    # Framed with the crown at 6% and the chin at 81% of 800 px.
    assert abs(crown[1] - 48) < 16 and abs(chin[1] - 648) < 16


def test_greyscale_photo_is_judged_as_grey(real_faces: dict[str, RealFaces],
                                           good_reports: dict[str, QualityReport]) -> None:
    grey = good_reports["takeo_600x800_png"]
    assert grey.check("colour_cast").passed and grey.check("colour_mode").passed
    assert "greyscale" in grey.check("colour_cast").threshold
    colour_only = DEFAULT_THRESHOLDS.with_overrides(colour="colour")
    arr = real_faces["takeo"].good()
    report = assess_photo(Image.fromarray(arr), colour_only)
    assert report.failed() == ["colour_mode"]
    assert "greyscale" in report.check("colour_mode").reason
    grey_only = DEFAULT_THRESHOLDS.with_overrides(colour="greyscale")
    colour_photo = Image.fromarray(real_faces["astronaut"].good())
    assert assess_photo(colour_photo, grey_only).failed() == ["colour_mode"]


def test_colour_and_landmark_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="photo_colour"):
        DEFAULT_THRESHOLDS.with_overrides(colour="sepia")
    with pytest.raises(ValueError, match="photo_landmarks"):
        DEFAULT_THRESHOLDS.with_overrides(landmarks="7")


@pytest.mark.parametrize("person", NAMES)
def test_68_point_model_measures_chin_and_expression(person: str, real_faces: dict[str, RealFaces]) -> None:
    t68 = DEFAULT_THRESHOLDS.with_overrides(landmarks="68")
    faces = real_faces[person]
    good = assess_photo(Image.fromarray(faces.good(Frame(width=600, height=800))), t68)
    assert good.failed() == [] and len(good.guides["landmarks"]) == 68  # type: ignore[arg-type]
    assert good.guides["eye_aspect_ratio"] is not None
    defects = faces.defects()
    for defect in ("mouth_open", "eyes_closed", "turned", "too_small"):
        expected, arr = defects[f"{person}_{defect}"]
        assert expected in assess_photo(Image.fromarray(arr), t68).failed(), defect


@pytest.mark.parametrize("person", NAMES)
def test_light_hair_on_a_light_backdrop_keeps_the_crown(person: str,
                                                       real_faces: dict[str, RealFaces]) -> None:
    """Fair or grey hair barely differs from a white wall in colour; its texture still marks the crown."""
    white = 246
    base = real_faces[person].good(Frame(width=600, height=800), colour=(white, white, white))
    before = assess_photo(Image.fromarray(base))
    crown, eye = before.guides["crown"][1], before.guides["eye_line_y"]  # type: ignore[index]
    pale = base.astype(np.float32)
    top = pale[: int(crown + 0.45 * (eye - crown))]  # type: ignore[operator]
    hair = np.abs(top - white).sum(axis=2) > 12
    light = 205 + 0.3 * top.mean(axis=2)
    top[hair] = np.stack([light, light * 0.98, light * 0.93], axis=2)[hair]
    after = assess_photo(Image.fromarray(np.clip(pale, 0, 255).astype(np.uint8)))
    assert after.failed() == []
    h0, h1 = before.check("head_height").value, after.check("head_height").value
    assert h0 is not None and h1 is not None and abs(h1 - h0) <= 0.02 * h0


@pytest.mark.parametrize("person", NAMES)
def test_a_moustache_is_not_an_open_mouth(person: str, real_faces: dict[str, RealFaces]) -> None:
    base = real_faces[person].good(Frame(width=600, height=800))
    points = list(find_landmarks(cv2.cvtColor(base, cv2.COLOR_RGB2GRAY), "68")[0].points)
    report = assess_photo(Image.fromarray(moustache(base, points)))
    assert report.check("mouth_closed").passed and report.failed() == []
