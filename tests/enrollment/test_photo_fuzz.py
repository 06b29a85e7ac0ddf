"""Fuzzing the photo paths: arbitrary pixels through the checks, the crop and the descriptor; bad vectors."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from photo_corpus import RealFaces
from PIL import Image

from enrollment.photo.checks import assess_photo
from enrollment.photo.crop import CROP_SIZE, CropError, make_compliant_crop
from enrollment.photo.descriptor import NoSingleFace, face_descriptor, from_bytes
from enrollment.photo.search import FaissIndex, NumpyIndex
from enrollment.photo.thresholds import DEFAULT_THRESHOLDS

SEEDS = range(24)


def _random_image(seed: int, face: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(64, 720)), int(rng.integers(64, 720))
    kind = seed % 6
    if kind == 0:
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if kind == 1:
        return np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
    if kind == 2:
        ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
        return np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8).copy()
    if kind == 3:
        img = np.full((h, w, 3), 200, np.uint8)
        for _ in range(8):
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.integers(3, w // 2 + 4)), int(rng.integers(3, h // 2 + 4)))
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360,
                        tuple(int(v) for v in rng.integers(0, 256, 3)), -1)
        return img
    # A real face, cropped, scaled, flipped and noised at random.
    y0, x0 = int(rng.integers(0, face.shape[0] // 3)), int(rng.integers(0, face.shape[1] // 3))
    part = face[y0:, x0:]
    part = cv2.resize(part, (w, h), interpolation=cv2.INTER_AREA)
    if kind == 5:
        part = np.clip(part + rng.normal(0, 40, part.shape), 0, 255).astype(np.uint8)[::-1]
    return np.ascontiguousarray(part)


@pytest.fixture(scope="module")
def face(real_faces: dict[str, RealFaces]) -> np.ndarray:
    return real_faces["grace_hopper"].good()


@pytest.mark.parametrize("seed", SEEDS)
def test_any_pixels_give_a_complete_report_or_a_clear_refusal(seed: int, face: np.ndarray) -> None:
    img = _random_image(seed, face)
    for t in (DEFAULT_THRESHOLDS, DEFAULT_THRESHOLDS.with_overrides(landmarks="68", colour="colour")):
        report = assess_photo(Image.fromarray(img), t)
        assert report.checks[0].name == "face_count"
        for check in report.checks:
            assert isinstance(check.passed, bool) and check.reason and check.reason_ar
            assert check.value is None or math.isfinite(check.value)
            assert all(math.isfinite(x) and math.isfinite(y) for x, y in check.points)
    try:
        crop = make_compliant_crop(Image.fromarray(img))
    except CropError as exc:
        assert exc.reason
    else:
        assert crop.size == CROP_SIZE
    try:
        vector = face_descriptor(img)
    except NoSingleFace:
        pass
    else:
        assert vector.shape == (128,) and np.isfinite(vector).all()


@pytest.mark.parametrize("length", [0, 1, 127, 511, 513, 1024])
def test_descriptor_bytes_of_a_wrong_length_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match="512 bytes"):
        from_bytes(bytes(length))


@pytest.mark.parametrize("index_kind", [NumpyIndex, FaissIndex])
def test_search_refuses_malformed_probes(index_kind: type) -> None:
    index = index_kind()
    rng = np.random.default_rng(3)
    index.add(range(10), rng.normal(size=(10, 128)).astype(np.float32))
    for probe in (np.zeros(0), np.zeros(127), np.zeros((2, 64)), np.full(128, np.inf)):
        with pytest.raises(ValueError, match="face descriptors"):
            index.search(probe)
    for _ in range(20):
        probe = rng.normal(scale=float(rng.uniform(0.01, 100)), size=128).astype(np.float32)
        hits = index.search(probe, k=int(rng.integers(1, 15)))
        assert 1 <= len(hits) <= 10 and all(h.distance >= 0 for h in hits)
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)
