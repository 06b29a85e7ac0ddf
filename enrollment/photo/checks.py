"""ICAO photo quality checks (ICAO 9303-3 §3.9, ISO/IEC 19794-5 §7-8, ISO/IEC 29794-5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
from PIL import Image

from enrollment.photo import measures as qm
from enrollment.photo.expression import Expression, expression
from enrollment.photo.geometry import HeadGeometry, head_geometry
from enrollment.photo.landmarks import Landmarks, Point, find_landmarks
from enrollment.photo.pose import Pose, head_pose
from enrollment.photo.reasons import reason
from enrollment.photo.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["Check", "HeadGeometry", "QualityReport", "assess_photo"]


@dataclass(frozen=True)
class Check:
    """One measure: value, limit, verdict, what the clerk should do (English, Arabic), points used."""

    name: str
    value: float | None
    threshold: str
    passed: bool
    reason: str
    reason_ar: str = ""
    points: tuple[Point, ...] = ()


@dataclass(frozen=True)
class QualityReport:
    """All checks run on one photo, and the landmarks and guides a clerk's screen draws."""

    checks: tuple[Check, ...]
    guides: dict[str, object] = field(default_factory=dict)

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
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks], "guides": self.guides}


def _range(values: tuple[float, float], unit: str = "") -> str:
    return f"{values[0]:g}-{values[1]:g}{unit}"


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _round(points: tuple[Point, ...] | list[Point]) -> tuple[Point, ...]:
    return tuple((round(x, 1), round(y, 1)) for x, y in points)


class _Checks:
    """Collects checks; a reason is only formatted for a failure."""

    def __init__(self) -> None:
        self.items: list[Check] = []

    def add(self, name: str, value: float | None, threshold: str, ok: bool,
            why: Callable[[], tuple[str, str]], points: tuple[Point, ...] = ()) -> None:
        rounded = None if value is None else round(float(value), 4)
        en, ar = ("ok", "مقبول") if ok else why()
        self.items.append(Check(name, rounded, threshold, bool(ok), en, ar, _round(points)))


@dataclass(frozen=True)
class _Measured:
    face: Landmarks
    geo: HeadGeometry
    pose: Pose
    size: tuple[int, int]


def _geometry(c: _Checks, m: _Measured, t: Thresholds) -> None:
    face, geo = m.face, m.geo
    width, height = m.size
    head = (geo.crown_point, geo.chin_point)
    ratio = geo.height / height
    lo, hi = t.head_height
    band = f"{_pct(lo)}-{_pct(hi)}"
    c.add("head_height", ratio, _range(t.head_height), lo <= ratio <= hi,
          lambda: reason("head_small" if ratio < lo else "head_large", ratio=_pct(ratio), band=band), head)
    # Raising the camera moves the subject down in the picture, and lowering it moves them up.
    margin = min(geo.crown, height - geo.chin) / height
    crown_cut = not geo.crown_found or geo.crown < height - geo.chin
    c.add("head_in_frame", margin, f">= {t.min_head_margin:g}",
          geo.crown_found and margin >= t.min_head_margin,
          lambda: reason("crown_cut" if crown_cut else "chin_cut"), head)
    ipd = face.eye_distance
    c.add("eye_distance", ipd, f">= {t.min_eye_distance_px:g} px", ipd >= t.min_eye_distance_px,
          lambda: reason("eye_distance", ipd=f"{ipd:.0f}", need=f"{t.min_eye_distance_px:.0f}"),
          face.eyes)
    eye_pos = geo.eye_y / height
    c.add("eye_line", eye_pos, _range(t.eye_line), t.eye_line[0] <= eye_pos <= t.eye_line[1],
          lambda: reason("eye_line_high" if eye_pos < t.eye_line[0] else "eye_line_low",
                         pos=_pct(eye_pos), band=_range(t.eye_line)), face.eyes)
    roll = face.roll_deg
    c.add("roll", roll, f"<= {t.max_roll_deg:g} deg", abs(roll) <= t.max_roll_deg,
          lambda: reason("roll", deg=f"{abs(roll):.0f}"), face.eyes)
    yaw, pitch = m.pose.yaw, m.pose.pitch
    c.add("yaw", yaw, f"<= {t.max_yaw_deg:g} deg", abs(yaw) <= t.max_yaw_deg,
          lambda: reason("yaw", deg=f"{abs(yaw):.0f}"), m.pose.points)
    c.add("pitch", pitch, f"<= {t.max_pitch_deg:g} deg", abs(pitch) <= t.max_pitch_deg,
          lambda: reason("pitch", deg=f"{abs(pitch):.0f}"), m.pose.points)
    cx = geo.centre_x / width
    c.add("centring", cx, _range(t.centring), t.centring[0] <= cx <= t.centring[1],
          lambda: reason("centring", pos=_pct(cx), band=_range(t.centring)), (face.eye_mid,))


def _expression(c: _Checks, e: Expression, t: Thresholds) -> None:
    eye_rule = f"iris >= {t.min_iris_height:g}" + (
        "" if e.eye_aspect is None else f"; eye aspect ratio >= {t.min_eye_aspect:g} ({e.eye_aspect:.3f})")
    c.add("eyes_open", e.iris, eye_rule,
          e.iris >= t.min_iris_height and (e.eye_aspect is None or e.eye_aspect >= t.min_eye_aspect),
          lambda: reason("eyes_closed"), e.eye_points)
    mouth_rule = f"cavity <= {t.max_mouth_cavity:g}" + (
        "" if e.lip_gap is None else f"; lip gap <= {t.max_lip_gap:g} ({e.lip_gap:.3f})")
    c.add("mouth_closed", e.cavity, mouth_rule,
          e.cavity <= t.max_mouth_cavity and (e.lip_gap is None or e.lip_gap <= t.max_lip_gap),
          lambda: reason("mouth_open"), e.mouth_points)


def _face_tone(c: _Checks, skin: qm.SkinTone, t: Thresholds) -> None:
    lo, hi = t.exposure
    dark = skin.mean < lo or (skin.clipped > t.max_clipped_fraction and skin.mean < 128)
    c.add("exposure", skin.mean, f"{_range(t.exposure)}; clipped <= {_pct(t.max_clipped_fraction)}",
          lo <= skin.mean <= hi and skin.clipped <= t.max_clipped_fraction,
          lambda: reason("underexposed" if dark else "overexposed"))
    c.add("contrast", skin.spread, f">= {t.min_contrast:g}", skin.spread >= t.min_contrast,
          lambda: reason("contrast"))
    c.add("illumination_uniformity", skin.left_right_imbalance, f"<= {t.max_illumination_imbalance:g}",
          skin.left_right_imbalance <= t.max_illumination_imbalance, lambda: reason("uneven_light"))


def _background(c: _Checks, bg: qm.Backdrop, t: Thresholds) -> None:
    c.add("background_uniformity", bg.texture, f"<= {t.max_background_texture:g}",
          bg.texture <= t.max_background_texture, lambda: reason("busy_background"))
    c.add("background_brightness", bg.luminance, f">= {t.min_background_luminance:g}",
          bg.luminance >= t.min_background_luminance, lambda: reason("dark_background"))
    c.add("background_colour", bg.chroma, f"<= {t.max_background_chroma:g}",
          bg.chroma <= t.max_background_chroma, lambda: reason("coloured_background"))


def _colour(c: _Checks, lab: np.ndarray, skin: qm.SkinTone, t: Thresholds) -> None:
    # Every other pixel is plenty for a mean over the whole frame.
    sub = lab[::2, ::2]
    chroma = float(np.hypot(sub[..., 1] - 128, sub[..., 2] - 128).mean())
    grey = chroma <= t.max_grey_chroma
    allowed = t.colour == "either" or (t.colour == "greyscale") == grey
    c.add("colour_mode", chroma, f"{t.colour}; greyscale when chroma <= {t.max_grey_chroma:g}", allowed,
          lambda: reason("needs_colour" if grey else "needs_grey"))
    if grey:
        # A greyscale photo has no white balance to judge: its skin chroma is zero by design.
        c.add("colour_cast", skin.chroma, "greyscale photo: no colour cast", True, lambda: ("", ""))
        return
    lo, hi = t.skin_hue
    limit = t.max_skin_chroma_rosy if skin.hue_deg < t.skin_hue_rosy else t.max_skin_chroma
    warm = skin.hue_deg > hi or skin.chroma > limit
    c.add("colour_cast", skin.hue_deg, f"skin hue {_range(t.skin_hue, ' deg')}; chroma <= "
          f"{t.max_skin_chroma:g} ({t.max_skin_chroma_rosy:g} under {t.skin_hue_rosy:g} deg)",
          lo <= skin.hue_deg <= hi and skin.chroma <= limit,
          lambda: reason("cast_warm" if warm else "cast_cold"))


def _guides(m: _Measured, e: Expression) -> dict[str, object]:
    """Everything a clerk's screen needs to draw the landmarks and the ICAO guide lines."""
    return {
        "landmark_model": m.face.model, "face_box": [round(v, 1) for v in m.face.box],
        "landmarks": _round(m.face.points), "eyes": _round(m.face.eyes),
        "eye_line_y": round(m.geo.eye_y, 1), "crown": _round([m.geo.crown_point])[0],
        "crown_found": m.geo.crown_found, "chin": _round([m.geo.chin_point])[0],
        "head_height_px": round(m.geo.height, 1), "yaw_deg": round(m.pose.yaw, 1),
        "pitch_deg": round(m.pose.pitch, 1), "roll_deg": round(m.face.roll_deg, 1),
        "eye_aspect_ratio": None if e.eye_aspect is None else round(e.eye_aspect, 3),
        "lip_gap": None if e.lip_gap is None else round(e.lip_gap, 3),
    }


def assess_photo(image: Image.Image | np.ndarray, thresholds: Thresholds | None = None) -> QualityReport:
    """Run every ICAO quality check on an RGB photo and return the full report."""
    t = thresholds or DEFAULT_THRESHOLDS
    rgb = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    c = _Checks()
    small, lab, scale = qm.work_copy(rgb)
    small_grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    faces = find_landmarks(gray, t.landmarks, small_grey)
    c.add("face_count", len(faces), "exactly 1", len(faces) == 1,
          lambda: reason("no_face") if not faces else reason("many_faces", count=len(faces)),
          tuple(p for f in faces for p in ((f.box[0], f.box[1]), (f.box[0] + f.box[2], f.box[1] + f.box[3]))))
    block = qm.blockiness(gray)
    c.add("blockiness", block, f"<= {t.max_blockiness:g}", block <= t.max_blockiness,
          lambda: reason("blockiness"))
    if len(faces) != 1:
        # Without exactly one face the other measures have nothing to stand on.
        return QualityReport(tuple(c.items))
    face = faces[0]
    measured = _Measured(face, head_geometry(face, lab, scale), head_pose(face, (width, height)),
                         (width, height))
    _geometry(c, measured, t)
    region = qm.skin_region(face, scale, small.shape)
    skin = qm.skin_tone(lab, region, int(measured.geo.centre_x * scale))
    skin_grey = float(np.median(small_grey[region]))
    expr = expression(gray, face, measured.geo.chin_point, skin_grey)
    _expression(c, expr, t)
    sharp = qm.sharpness(gray, face)
    c.add("sharpness", sharp, f">= {t.min_sharpness:g}", sharp >= t.min_sharpness, lambda: reason("blurred"))
    _face_tone(c, skin, t)
    _background(c, qm.backdrop(lab, qm.background_mask(measured.geo, scale, small.shape)), t)
    _colour(c, lab, skin, t)
    return QualityReport(tuple(c.items), _guides(measured, expr))
