"""128-d face descriptors (dlib ResNet, public domain) and 1:1 comparison (ISO/IEC 19795 style)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import dlib
import numpy as np
from PIL import Image

from enrollment.photo import models
from enrollment.photo.landmarks import find_landmarks

DIMENSIONS = 128
# dlib's published operating point: the same person is under 0.6 with 99.38% LFW accuracy.
SAME_PERSON_DISTANCE = 0.6


class NoSingleFace(ValueError):
    """A descriptor needs exactly one face in the photo."""


def face_descriptor(image: Image.Image | np.ndarray) -> np.ndarray:
    """The 128-d descriptor of the one face in an RGB photo (float32), aligned on the 5 points."""
    rgb = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    faces = find_landmarks(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), "5")
    if len(faces) != 1:
        raise NoSingleFace(f"need exactly one face for a descriptor, found {len(faces)}")
    x, y, w, h = (int(round(v)) for v in faces[0].box)
    parts = [dlib.point(int(round(px)), int(round(py))) for px, py in faces[0].points]
    shape = dlib.full_object_detection(dlib.rectangle(x, y, x + w, y + h), parts)
    vector = models.face_descriptor_model().compute_face_descriptor(np.ascontiguousarray(rgb), shape)
    return np.asarray(vector, np.float32)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


@dataclass(frozen=True)
class Comparison:
    """A 1:1 comparison: the distance, the threshold and the verdict."""

    distance: float
    threshold: float

    @property
    def same_person(self) -> bool:
        """True when the distance is under the threshold."""
        return self.distance < self.threshold


def compare(a: np.ndarray, b: np.ndarray, threshold: float = SAME_PERSON_DISTANCE) -> Comparison:
    """1:1 verification of two descriptors."""
    return Comparison(distance(a, b), threshold)


def to_bytes(vector: np.ndarray) -> bytes:
    """Descriptor as 512 little-endian float32 bytes (the form sealed in the vault)."""
    return np.asarray(vector, "<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """Descriptor from its 512-byte form; a wrong length is an error naming the rule."""
    if len(data) != DIMENSIONS * 4:
        raise ValueError(f"a face descriptor is {DIMENSIONS * 4} bytes, got {len(data)}")
    return np.frombuffer(data, "<f4").astype(np.float32)


def verify_holder(live: Image.Image | np.ndarray, chip_portrait: bytes,
                  threshold: float = SAME_PERSON_DISTANCE) -> Comparison:
    """1:1 at card hand-over: the holder's live photo against the chip's DG2 portrait (JPEG bytes)."""
    with Image.open(io.BytesIO(chip_portrait)) as img:
        reference = face_descriptor(img.convert("RGB"))
    return compare(face_descriptor(live), reference, threshold)
