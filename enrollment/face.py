"""Face and eye finding with the Haar cascades shipped in opencv-python-headless 4.x."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

# Detection runs on a small copy: Haar cost grows with pixels, and a compliant face fills
# a large part of the frame, so 200 px of width still leaves a two-face case detectable.
DETECT_WIDTH = 160
MIN_FACE_FRACTION = 0.12
# Faces rolled beyond what the frontal cascade tolerates are searched at these angles.
ROLL_SEARCH_DEG = (-22.0, 22.0, -40.0, 40.0)
EYE_ROI = 96

Point = tuple[float, float]
_local = threading.local()


class CascadeMissing(RuntimeError):
    """OpenCV was installed without its Haar cascades (opencv 5 dropped them)."""


@lru_cache(maxsize=4)
def _cascade_path(name: str) -> str:
    base = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if base is None or not hasattr(cv2, "CascadeClassifier"):
        raise CascadeMissing("opencv-python-headless 4.x with cv2.data.haarcascades is required")
    return f"{base}{name}"


def _cascade(name: str) -> cv2.CascadeClassifier:
    # CascadeClassifier is not thread-safe; one instance per thread (web workers, xdist).
    cache: dict[str, cv2.CascadeClassifier] = _local.__dict__.setdefault("cascades", {})
    if name not in cache:
        clf = cv2.CascadeClassifier(_cascade_path(name))
        if clf.empty():
            raise CascadeMissing(f"cannot load {name}")
        cache[name] = clf
    return cache[name]


@dataclass(frozen=True)
class Face:
    """A detected face in image coordinates; eyes are the subject's right then left (image left, right)."""

    box: tuple[float, float, float, float]
    search_angle: float
    eyes: tuple[Point, Point] | None
    eye_match: float

    @property
    def centre(self) -> Point:
        """Centre of the face box."""
        x, y, w, h = self.box
        return (x + w / 2, y + h / 2)

    @property
    def eye_distance(self) -> float | None:
        """Pixels between the eye centres (ISO/IEC 19794-5 inter-eye distance)."""
        if self.eyes is None:
            return None
        (x1, y1), (x2, y2) = self.eyes
        return math.hypot(x2 - x1, y2 - y1)

    @property
    def eye_mid(self) -> Point | None:
        """Midpoint between the eyes."""
        if self.eyes is None:
            return None
        (x1, y1), (x2, y2) = self.eyes
        return ((x1 + x2) / 2, (y1 + y2) / 2)

    @property
    def roll_deg(self) -> float | None:
        """Angle of the eye line; positive when the image-right eye is lower."""
        if self.eyes is None:
            return None
        (x1, y1), (x2, y2) = self.eyes
        return math.degrees(math.atan2(y2 - y1, x2 - x1))


def _rotation(shape: tuple[int, ...], angle: float) -> np.ndarray:
    h, w = shape[:2]
    return cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)


def _detect_boxes(small: np.ndarray) -> list[tuple[int, int, int, int]]:
    side = max(24, int(MIN_FACE_FRACTION * small.shape[1]))
    found = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(
        small, scaleFactor=1.2, minNeighbors=3, minSize=(side, side)
    )
    return [tuple(int(v) for v in b) for b in found]  # type: ignore[misc]


def _subpixel(values: np.ndarray, i: int) -> float:
    if 0 < i < len(values) - 1:
        denom = values[i - 1] - 2 * values[i] + values[i + 1]
        if denom != 0:
            return i + 0.5 * float(values[i - 1] - values[i + 1]) / float(denom)
    return float(i)


def _eyes_in(roi: np.ndarray) -> tuple[Point, Point, float] | None:
    """Eye centres in a square EYE_ROI face crop, refined by mirror-matching one eye on the other.

    Haar eye boxes jitter by a few pixels, which is several degrees of roll; the two eyes
    are mirror images of each other, so matching the flipped left patch in the right
    region gives their relative offset to a fraction of a pixel.
    """
    top = int(EYE_ROI * 0.12)
    found = [
        (x, y + top, w, h)
        for x, y, w, h in _cascade("haarcascade_eye.xml").detectMultiScale(
            roi[top : int(EYE_ROI * 0.6)],
            scaleFactor=1.15,
            minNeighbors=3,
            minSize=(20, 20),
            maxSize=(int(EYE_ROI * 0.4),) * 2,
        )
    ]
    half = EYE_ROI / 2
    lefts = [e for e in found if e[0] + e[2] / 2 < half]
    rights = [e for e in found if e[0] + e[2] / 2 >= half]
    if not lefts or not rights:
        return None
    # Eyebrows and nostrils also trigger the cascade; the eye is the lowest large hit near
    # the expected height, so take the biggest box on each side.
    lx, ly, lw, lh = max(lefts, key=lambda e: e[2])
    rx, ry, rw, rh = max(rights, key=lambda e: e[2])
    tw, th = int(lw * 0.8), int(lh * 0.6)
    tx, ty = int(lx + lw / 2 - tw / 2), int(ly + lh / 2 - th / 2)
    template = cv2.flip(roi[ty : ty + th, tx : tx + tw], 1)
    pad = EYE_ROI // 10
    sx, sy = max(0, int(rx + rw / 2 - tw / 2 - pad)), max(0, int(ry + rh / 2 - th / 2 - pad))
    region = roi[sy : sy + th + 2 * pad, sx : sx + tw + 2 * pad]
    left = (tx + tw / 2, ty + th / 2)
    if region.shape[0] <= th or region.shape[1] <= tw or template.size == 0:
        return left, (rx + rw / 2, ry + rh / 2), 0.0
    res = cv2.matchTemplate(region, template, cv2.TM_CCOEFF_NORMED)
    _, score, _, (px, py) = cv2.minMaxLoc(res)
    right = (sx + _subpixel(res[py, :], px) + tw / 2, sy + _subpixel(res[:, px], py) + th / 2)
    return left, right, float(score)


def find_faces(gray: np.ndarray) -> list[Face]:
    """All frontal faces in an 8-bit grey image, with eye centres where they are visible."""
    scale = DETECT_WIDTH / gray.shape[1]
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = cv2.equalizeHist(small)
    angle = 0.0
    boxes = _detect_boxes(small)
    if not boxes:
        for candidate in ROLL_SEARCH_DEG:
            rotated = cv2.warpAffine(small, _rotation(small.shape, candidate), small.shape[::-1],
                                     borderMode=cv2.BORDER_REPLICATE)
            boxes = _detect_boxes(rotated)
            if boxes:
                angle = candidate
                break
    return [_measure(gray, box, scale, angle, small.shape) for box in boxes]


def _measure(
    gray: np.ndarray,
    box: tuple[int, int, int, int],
    scale: float,
    angle: float,
    small_shape: tuple[int, ...],
) -> Face:
    # Work in the (possibly rotated) detection frame, then map points back to the image.
    inverse = cv2.invertAffineTransform(_rotation(small_shape, angle))
    x, y, w, h = box

    def to_image(px: float, py: float) -> Point:
        sx, sy = inverse @ np.array([px, py, 1.0])
        return (float(sx) / scale, float(sy) / scale)

    # Sample the face crop from the full-resolution image through one affine map.
    k = EYE_ROI / w
    crop_to_small = np.array([[1 / k, 0, x], [0, 1 / k, y], [0, 0, 1]])
    small_to_image = np.vstack([inverse, [0, 0, 1]]) / 1.0
    small_to_image[:2] /= scale
    m = (small_to_image @ crop_to_small)[:2]
    roi = cv2.warpAffine(gray, m, (EYE_ROI, EYE_ROI), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_AREA)
    eyes = _eyes_in(roi)
    cx, cy = to_image(x + w / 2, y + h / 2)
    size = w / scale
    image_box = (cx - size / 2, cy - size / 2, size, size)
    if eyes is None:
        return Face(image_box, angle, None, 0.0)
    left, right, score = eyes
    mapped = tuple(to_image(x + px / k, y + py / k) for px, py in (left, right))
    return Face(image_box, angle, (mapped[0], mapped[1]), score)
