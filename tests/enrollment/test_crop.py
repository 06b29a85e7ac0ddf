"""Compliant 35x45 crop and the chip JPEG within its byte budget."""

from __future__ import annotations

import pytest
from photo_corpus import CorpusSet, Frame
from PIL import Image

from enrollment.photo.checks import assess_photo
from enrollment.photo.crop import (
    CROP_SIZE,
    CropError,
    chip_jpeg,
    make_compliant_crop,
    make_token_image,
)
from enrollment.photo.intake import decode_image
from enrollment.photo.samples import sample_portrait
from enrollment.photo.thresholds import DEFAULT_THRESHOLDS


@pytest.fixture(scope="module")
def loose_shot(corpus: CorpusSet) -> Image.Image:
    # A typical counter snapshot: small head, off-centre, slightly tilted.
    spec = Frame(width=900, height=1100, head_ratio=0.5, top_margin=0.2, centre_x=0.4, roll_deg=3)
    return Image.fromarray(corpus.maker.good(spec))


def test_source_is_not_compliant_but_its_crop_is(loose_shot: Image.Image) -> None:
    assert not assess_photo(loose_shot).passed
    crop = make_compliant_crop(loose_shot)
    assert crop.size == CROP_SIZE
    report = assess_photo(crop)
    assert report.failed() == []
    head = report.check("head_height").value
    assert head is not None and 0.72 <= head <= 0.78
    roll = report.check("roll").value
    assert roll is not None and abs(roll) < 1.0


def test_chip_jpeg_fits_the_budget_and_stays_usable(loose_shot: Image.Image) -> None:
    crop = make_compliant_crop(loose_shot)
    for budget in (20_000, 12_000):
        data = chip_jpeg(crop, budget=budget)
        assert data[:2] == b"\xff\xd8" and len(data) <= budget
        img = decode_image(data)
        # ISO/IEC 19794-5 token images need 60 px between the eyes, not the 90 of a print.
        token = DEFAULT_THRESHOLDS.with_overrides(min_eye_distance_px=60.0)
        assert assess_photo(img, token).failed() == []


def test_token_image_follows_the_19794_5_geometry(loose_shot: Image.Image) -> None:
    token = make_token_image(loose_shot)
    assert token.size == (240, 320)
    report = assess_photo(token, DEFAULT_THRESHOLDS.with_overrides(min_eye_distance_px=55.0))
    eyes = report.check("eye_distance").value
    eye_line = report.check("eye_line").value
    centre = report.check("centring").value
    roll = report.check("roll").value
    assert eyes is not None and abs(eyes - 60) <= 4
    assert eye_line is not None and abs(eye_line - 0.45) <= 0.02
    assert centre is not None and abs(centre - 0.5) <= 0.02
    assert roll is not None and abs(roll) < 1.0
    assert len(chip_jpeg(token)) <= 20_000


def test_tiny_budget_shrinks_the_image() -> None:
    crop = Image.effect_noise(CROP_SIZE, 80).convert("RGB")
    data = chip_jpeg(crop, budget=6_000)
    assert len(data) <= 6_000
    assert decode_image(data).width < 240


def test_crop_refuses_a_photo_without_a_face(corpus: CorpusSet) -> None:
    with pytest.raises(CropError, match="exactly one face"):
        make_compliant_crop(corpus.image(corpus.defects["no_face"][1]))


def test_sample_portraits_for_the_demo_pass_and_differ() -> None:
    photos = [sample_portrait(i) for i in range(4)]
    assert len(set(photos)) == 4
    for data in photos:
        assert assess_photo(decode_image(data)).failed() == []
