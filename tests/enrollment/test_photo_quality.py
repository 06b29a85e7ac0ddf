"""ICAO photo quality on the generated corpus: each defect caught by its check, goods pass."""

from __future__ import annotations

import pytest
from photo_corpus import CorpusSet as PhotoCorpus
from PIL import Image

from enrollment.photo.checks import QualityReport, assess_photo
from enrollment.photo.thresholds import DEFAULT_THRESHOLDS, thresholds_from_config

GOODS = ["good_default", "good_small_head", "good_large_head", "good_white_bg", "good_grey_bg",
         "good_600x771", "good_shift_left", "good_tilt_1deg", "good_mirrored"]
DEFECTS = ["too_small", "too_large", "off_centre", "rotated_5", "rotated_10", "rotated_20",
           "blurred", "underexposed", "overexposed", "low_contrast", "uneven_light", "busy_background",
           "coloured_background", "dark_background", "colour_cast_warm", "colour_cast_blue", "heavy_jpeg",
           "two_faces", "no_face", "cropped_head"]
ALL_CHECKS = ["face_count", "blockiness", "head_height", "head_in_frame", "eye_distance",
              "eye_line", "roll", "yaw", "pitch", "centring", "eyes_open", "mouth_closed", "sharpness",
              "exposure", "contrast", "illumination_uniformity", "background_uniformity",
              "background_brightness", "background_colour", "colour_mode", "colour_cast"]


@pytest.fixture(scope="module")
def reports(corpus: PhotoCorpus) -> dict[str, QualityReport]:
    out = {name: assess_photo(Image.fromarray(arr)) for name, arr in corpus.goods.items()}
    for name, (_, item) in corpus.defects.items():
        out[name] = assess_photo(corpus.image(item))
    return out


def test_corpus_holds_every_listed_case(corpus: PhotoCorpus) -> None:
    assert sorted(corpus.goods) == sorted(GOODS)
    assert sorted(corpus.defects) == sorted(DEFECTS)


@pytest.mark.parametrize("name", GOODS)
def test_good_photo_passes_every_check(name: str, reports: dict[str, QualityReport]) -> None:
    report = reports[name]
    assert report.failed() == []
    assert [c.name for c in report.checks] == ALL_CHECKS
    assert report.passed


@pytest.mark.parametrize("name", DEFECTS)
def test_defect_is_caught_by_its_check(
    name: str, corpus: PhotoCorpus, reports: dict[str, QualityReport]
) -> None:
    expected, _ = corpus.defects[name]
    report = reports[name]
    assert not report.passed
    check = report.check(expected)
    assert not check.passed
    assert check.reason and check.reason != "ok"


def test_confusion_matrix(corpus: PhotoCorpus, reports: dict[str, QualityReport]) -> None:
    """Rows: samples; columns: checks; X = failed. Printed for the issue note (pytest -s)."""
    short = {"background_uniformity": "bgUni", "background_brightness": "bgBri",
             "background_colour": "bgCol", "illumination_uniformity": "illum",
             "head_height": "headH", "head_in_frame": "headF"}
    header = "sample".ljust(20) + " expected".ljust(24) + " ".join(
        short.get(c, c[:5]) for c in ALL_CHECKS)
    lines = [header]
    diagonal_hits = 0
    for name in GOODS + DEFECTS:
        expected = corpus.defects[name][0] if name in corpus.defects else "-"
        failed = set(reports[name].failed())
        diagonal_hits += expected in failed
        cells = ["X".center(5) if c in failed else ".".center(5) for c in ALL_CHECKS]
        lines.append(name.ljust(20) + " " + expected.ljust(23) + " ".join(cells))
    print("\n" + "\n".join(lines))
    assert diagonal_hits == len(DEFECTS)
    assert all(reports[g].passed for g in GOODS)


def test_busy_source_portrait_fails_background_uniformity(corpus: PhotoCorpus) -> None:
    report = assess_photo(Image.fromarray(corpus.maker.img))
    assert not report.check("background_uniformity").passed


def test_reason_tells_the_clerk_what_to_do(reports: dict[str, QualityReport]) -> None:
    small = reports["too_small"].check("head_height")
    assert small.reason.startswith("move closer: head is ")
    assert "needs 70%-80%" in small.reason
    assert reports["too_large"].check("head_height").reason.startswith("move back")
    assert "tilted" in reports["rotated_10"].check("roll").reason
    assert reports["two_faces"].check("face_count").reason.startswith("2 faces")
    assert reports["underexposed"].check("exposure").reason.startswith("under-exposed")
    assert reports["overexposed"].check("exposure").reason.startswith("over-exposed")
    # The head sits too high in the frame: raising the camera moves it down.
    assert "raise the camera" in reports["cropped_head"].check("head_in_frame").reason
    assert reports["cropped_head"].check("eye_line").reason.endswith("raise the camera")


def test_measured_roll_matches_the_applied_rotation(reports: dict[str, QualityReport]) -> None:
    for name, degrees in (("rotated_5", 5), ("rotated_10", 10), ("rotated_20", 20)):
        value = reports[name].check("roll").value
        assert value is not None and abs(abs(value) - degrees) < 1.5


def test_thresholds_are_configurable(corpus: PhotoCorpus) -> None:
    lenient = DEFAULT_THRESHOLDS.with_overrides(head_height=(0.4, 0.95))
    report = assess_photo(Image.fromarray(corpus.defects["too_small"][1]), lenient)  # type: ignore[arg-type]
    assert report.check("head_height").passed
    assert report.check("head_height").threshold == "0.4-0.95"
    with pytest.raises(KeyError):
        DEFAULT_THRESHOLDS.with_overrides(no_such_threshold=1)


def test_report_json_shape(reports: dict[str, QualityReport]) -> None:
    data = reports["blurred"].as_dict()
    assert data["passed"] is False
    checks = data["checks"]
    assert isinstance(checks, list)
    assert set(checks[0]) == {"name", "value", "threshold", "passed", "reason", "reason_ar", "points"}
    guides = data["guides"]
    assert isinstance(guides, dict) and len(guides["landmarks"]) == 5
    assert guides["crown_found"] is True and guides["chin"][1] > guides["eye_line_y"] > guides["crown"][1]


def test_thresholds_from_configuration_table() -> None:
    t = thresholds_from_config({"photo_thresholds": {"head_height": [0.65, 0.85],
                                                     "max_roll_deg": 6}})
    assert t.head_height == (0.65, 0.85) and t.max_roll_deg == 6
    assert thresholds_from_config({}) == DEFAULT_THRESHOLDS
