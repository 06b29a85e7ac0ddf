"""ICAO photo quality checks (ICAO 9303-3 §3.9, ISO/IEC 19794-5 §7-8, ISO/IEC 29794-5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from PIL import Image

from enrollment import quality_measures as qm
from enrollment.face import Face, find_faces
from enrollment.head_model import HeadGeometry, head_geometry
from enrollment.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["Check", "HeadGeometry", "QualityReport", "assess_photo", "head_geometry"]

# Photometric checks run on a copy this wide: their statistics do not need more pixels.
WORK_WIDTH = 320


@dataclass(frozen=True)
class Check:
    """One measure: its value, the limit it was held to, the verdict and what the clerk should do."""

    name: str
    value: float | None
    threshold: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class QualityReport:
    """All checks run on one photo; it passes only if every check passes."""

    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(c.passed for c in self.checks)

    def failed(self) -> list[str]:
        """Names of the failed checks."""
        return [c.name for c in self.checks if not c.passed]

    def check(self, name: str) -> Check:
        """The check called `name` (KeyError if it did not run)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape the CLI and the API publish."""
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}


def _range(values: tuple[float, float], unit: str = "") -> str:
    return f"{values[0]:g}-{values[1]:g}{unit}"


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


class _Checks:
    """Collects checks; a reason is only formatted for a failure."""

    def __init__(self) -> None:
        self.items: list[Check] = []

    def add(self, name: str, value: float | None, threshold: str, ok: bool,
            why: Callable[[], str]) -> None:
        rounded = None if value is None else round(float(value), 4)
        self.items.append(Check(name, rounded, threshold, bool(ok), "ok" if ok else why()))


def _geometry(c: _Checks, face: Face, geo: HeadGeometry, size: tuple[int, int],
              t: Thresholds) -> None:
    width, height = size
    ratio = geo.height / height
    lo, hi = t.head_height
    band = f"{_pct(lo)}-{_pct(hi)}"
    c.add("head_height", ratio, _range(t.head_height), lo <= ratio <= hi,
          lambda: f"move closer: head is {_pct(ratio)} of the image height, needs {band}"
          if ratio < lo else f"move back: head is {_pct(ratio)} of the image height, needs {band}")
    # Raising the camera moves the subject down in the picture, and lowering it moves them up.
    margin = min(geo.crown, height - geo.chin) / height
    c.add("head_in_frame", margin, f">= {t.min_head_margin:g}", margin >= t.min_head_margin,
          lambda: "the top of the head is cut off: raise the camera or step back"
          if geo.crown < height - geo.chin else "the chin is cut off: lower the camera or step back")
    ipd = face.eye_distance
    c.add("eye_distance", ipd, f">= {t.min_eye_distance_px:g} px",
          ipd is not None and ipd >= t.min_eye_distance_px,
          lambda: "eyes not found: eyes open, no glare on glasses, hair away from the eyes"
          if ipd is None else f"resolution too low: {ipd:.0f} px between the eyes, needs "
          f"{t.min_eye_distance_px:.0f}; use a higher resolution or move closer")
    eye_pos = geo.eye_y / height
    c.add("eye_line", eye_pos, _range(t.eye_line), t.eye_line[0] <= eye_pos <= t.eye_line[1],
          lambda: f"eye line at {_pct(eye_pos)} from the top, needs {_range(t.eye_line)}: "
          + ("raise the camera" if eye_pos < t.eye_line[0] else "lower the camera"))
    roll = face.roll_deg if face.roll_deg is not None else (face.search_angle or None)
    c.add("roll", roll, f"<= {t.max_roll_deg:g} deg",
          roll is not None and abs(roll) <= t.max_roll_deg,
          lambda: "eyes not found, roll cannot be measured" if roll is None
          else f"head tilted {abs(roll):.0f} degrees: hold the head straight, eyes level")
    mid = face.eye_mid
    pose = abs(mid[0] - face.centre[0]) / ipd if mid is not None and ipd else None
    c.add("frontal_pose", pose, f"<= {t.max_pose_offset:g}",
          pose is not None and pose <= t.max_pose_offset,
          lambda: "eyes not found, pose cannot be measured" if pose is None
          else "head turned: look straight into the camera")
    cx = geo.centre_x / width
    c.add("centring", cx, _range(t.centring), t.centring[0] <= cx <= t.centring[1],
          lambda: f"face centre at {_pct(cx)} of the width, needs {_range(t.centring)}: "
          "move to the middle of the frame")


def _face_tone(c: _Checks, skin: qm.SkinTone, t: Thresholds) -> None:
    lo, hi = t.exposure
    c.add("exposure", skin.mean, f"{_range(t.exposure)}; clipped <= {_pct(t.max_clipped_fraction)}",
          lo <= skin.mean <= hi and skin.clipped <= t.max_clipped_fraction,
          lambda: "under-exposed: face too dark, add light" if skin.mean < lo or (
              skin.clipped > t.max_clipped_fraction and skin.mean < 128)
          else "over-exposed: face washed out, reduce light or flash")
    c.add("contrast", skin.spread, f">= {t.min_contrast:g}", skin.spread >= t.min_contrast,
          lambda: "contrast too low: the face looks flat or hazy, check lighting and camera")
    c.add("illumination_uniformity", skin.left_right_imbalance,
          f"<= {t.max_illumination_imbalance:g}",
          skin.left_right_imbalance <= t.max_illumination_imbalance,
          lambda: "one side of the face is darker: light the face evenly from both sides")


def _background(c: _Checks, bg: qm.Backdrop, t: Thresholds) -> None:
    c.add("background_uniformity", bg.texture, f"<= {t.max_background_texture:g}",
          bg.texture <= t.max_background_texture,
          lambda: "background is not plain: use a plain light wall with nothing behind the applicant")
    c.add("background_brightness", bg.luminance, f">= {t.min_background_luminance:g}",
          bg.luminance >= t.min_background_luminance,
          lambda: "background too dark: use a light background and light it")
    c.add("background_colour", bg.chroma, f"<= {t.max_background_chroma:g}",
          bg.chroma <= t.max_background_chroma,
          lambda: "background is coloured: it must be white, off-white or light grey")


def _colour_cast(c: _Checks, skin: qm.SkinTone, t: Thresholds) -> None:
    lo, hi = t.skin_hue
    warm = skin.hue_deg > hi or skin.chroma > t.max_skin_chroma
    c.add("colour_cast", skin.hue_deg,
          f"skin hue {_range(t.skin_hue, ' deg')}; chroma <= {t.max_skin_chroma:g}",
          lo <= skin.hue_deg <= hi and skin.chroma <= t.max_skin_chroma,
          lambda: "colour cast: skin tones look " + ("yellow/orange" if warm else "blue/green")
          + "; set the camera's white balance for the studio light")


def assess_photo(image: Image.Image | np.ndarray, thresholds: Thresholds | None = None) -> QualityReport:
    """Run every ICAO quality check on an RGB photo and return the full report."""
    t = thresholds or DEFAULT_THRESHOLDS
    rgb = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    c = _Checks()
    faces = find_faces(gray)
    c.add("face_count", len(faces), "exactly 1", len(faces) == 1,
          lambda: "no face found: the applicant must face the camera, nothing covering the face"
          if not faces else f"{len(faces)} faces found: only the applicant may be in the photo")
    block = qm.blockiness(gray)
    c.add("blockiness", block, f"<= {t.max_blockiness:g}", block <= t.max_blockiness,
          lambda: "over-compressed (JPEG blocks visible): re-take or export at higher quality")
    if len(faces) != 1:
        # Without exactly one face the other measures have nothing to stand on.
        return QualityReport(tuple(c.items))
    face = faces[0]
    geo = head_geometry(face, t)
    _geometry(c, face, geo, (width, height), t)
    sharp = qm.sharpness(gray, face)
    c.add("sharpness", sharp, f">= {t.min_sharpness:g}", sharp >= t.min_sharpness,
          lambda: "the photo is blurred: hold still, focus on the eyes")

    scale = WORK_WIDTH / width
    small = cv2.resize(rgb, (WORK_WIDTH, max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    skin = qm.skin_tone(lab, qm.skin_region(face, scale, small.shape), int(geo.centre_x * scale))
    _face_tone(c, skin, t)
    _background(c, qm.backdrop(lab, qm.background_mask(geo, scale, small.shape)), t)
    _colour_cast(c, skin, t)
    return QualityReport(tuple(c.items))
