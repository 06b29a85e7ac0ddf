"""Face detection (dlib HOG on a small copy) and landmarks (dlib shape predictor on the full image)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import dlib
import numpy as np

from enrollment.photo import models

Point = tuple[float, float]
# HOG scans an 80 px window: at this width a face of a third of the frame is still found,
# and detection costs a few milliseconds instead of a hundred on the full image.
DETECT_WIDTH = 320
# Faces rolled beyond what the frontal detector tolerates are searched at these angles; a hit
# there must score higher, since a rotated collar or shoulder can look like a face.
ROLL_SEARCH_DEG = (-25.0, 25.0, -45.0, 45.0)
ROTATED_MIN_SCORE = 0.4
# Indices in dlib's 68-point layout (iBUG 300-W).
JAW, CHIN = slice(0, 17), 8
EYE_A, EYE_B = slice(36, 42), slice(42, 48)
NOSE_TIP, NOSE_BASE = 30, 33
MOUTH_CORNERS = (48, 54)
INNER_LIP_TOP, INNER_LIP_BOTTOM = (61, 62, 63), (67, 66, 65)


@dataclass(frozen=True)
class Landmarks:
    """One face: detector box and predictor points in image pixels, with the model that made them."""

    box: tuple[float, float, float, float]
    points: tuple[Point, ...]
    model: str
    search_angle: float = 0.0

    def _eye_groups(self) -> tuple[list[Point], list[Point]]:
        p = self.points
        a, b = (list(p[EYE_A]), list(p[EYE_B])) if self.model == "68" else (list(p[2:4]), list(p[0:2]))
        return (a, b) if _mean(a)[0] <= _mean(b)[0] else (b, a)

    @property
    def eye_points(self) -> tuple[list[Point], list[Point]]:
        """The points of each eye, image-left eye first."""
        return self._eye_groups()

    @property
    def eyes(self) -> tuple[Point, Point]:
        """Eye centres, image-left then image-right."""
        a, b = self._eye_groups()
        return _mean(a), _mean(b)

    @property
    def eye_distance(self) -> float:
        """Pixels between the eye centres (ISO/IEC 19794-5 inter-eye distance)."""
        (x1, y1), (x2, y2) = self.eyes
        return math.hypot(x2 - x1, y2 - y1)

    @property
    def eye_mid(self) -> Point:
        """Midpoint between the eye centres."""
        (x1, y1), (x2, y2) = self.eyes
        return ((x1 + x2) / 2, (y1 + y2) / 2)

    @property
    def roll_deg(self) -> float:
        """Angle of the eye line; positive when the image-right eye is lower."""
        (x1, y1), (x2, y2) = self.eyes
        return math.degrees(math.atan2(y2 - y1, x2 - x1))

    @property
    def nose_base(self) -> Point:
        """The point under the nose (subnasale)."""
        return self.points[NOSE_BASE] if self.model == "68" else self.points[4]

    @property
    def chin(self) -> Point | None:
        """The chin point (menton) when the predictor gives one."""
        return self.points[CHIN] if self.model == "68" else None


def _mean(points: list[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _rotation(shape: tuple[int, ...], angle: float) -> np.ndarray:
    h, w = shape[:2]
    return cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)


def _detect(small: np.ndarray, min_score: float = 0.0) -> list[tuple[int, int, int, int]]:
    rects, scores, _ = models.detector().run(small, 0, 0.0)
    return [(r.left(), r.top(), r.width(), r.height()) for r, s in zip(rects, scores, strict=True)
            if s >= min_score]


def find_landmarks(gray: np.ndarray, predictor: str = "5",
                   small: np.ndarray | None = None) -> list[Landmarks]:
    """Every frontal face of an 8-bit grey image with its landmarks, biggest first.

    `small` is a grey copy DETECT_WIDTH wide when the caller has one already.
    """
    scale = min(1.0, DETECT_WIDTH / gray.shape[1])
    if small is None or small.shape[1] != round(gray.shape[1] * scale):
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        scale = small.shape[1] / gray.shape[1]
    angle, frame, boxes = 0.0, gray, _detect(small)
    if not boxes and scale < 1.0:
        # A small face in a big frame: look again at twice the size before trying rotations.
        scale = min(1.0, 2 * scale)
        small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        boxes = _detect(small)
    for candidate in ROLL_SEARCH_DEG:
        if boxes:
            break
        frame = cv2.warpAffine(small, _rotation(small.shape, candidate), small.shape[::-1],
                               borderMode=cv2.BORDER_REPLICATE)
        angle, boxes = candidate, _detect(frame, ROTATED_MIN_SCORE)
    if not boxes:
        return []
    # Map from the (rotated) small frame back to the image through one affine transform.
    to_image = cv2.invertAffineTransform(_rotation(small.shape, angle)) / scale
    found = [_predict(frame, box, scale, to_image, angle, predictor) for box in boxes]
    return sorted(found, key=lambda f: -f.box[2])


def _predict(image: np.ndarray, box: tuple[int, int, int, int], scale: float, to_image: np.ndarray,
             angle: float, predictor: str) -> Landmarks:
    x, y, w, h = box
    if angle == 0:
        rect = dlib.rectangle(int(x / scale), int(y / scale), int((x + w) / scale), int((y + h) / scale))
        shape = models.shape_predictor(predictor)(image, rect)
        points = tuple((float(p.x), float(p.y)) for p in shape.parts())
    else:
        # Rolled face: predict in the levelled small frame, then map the points back.
        shape = models.shape_predictor(predictor)(image, dlib.rectangle(x, y, x + w, y + h))
        points = tuple(_apply(to_image, p.x, p.y) for p in shape.parts())
    cx, cy = _apply(to_image, x + w / 2, y + h / 2)
    side = w / scale
    return Landmarks((cx - side / 2, cy - side / 2, side, side), points, predictor, angle)


def _apply(m: np.ndarray, x: float, y: float) -> Point:
    px, py = m @ np.array([x, y, 1.0])
    return (float(px), float(py))
