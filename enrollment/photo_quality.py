"""ICAO photo quality measures (ICAO 9303-3 §3.9, ISO/IEC 19794-5 §7-8, ISO/IEC 29794-5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from PIL import Image

from enrollment.face import Face, find_faces
from enrollment.thresholds import DEFAULT_THRESHOLDS, Thresholds

# Photometric checks run on a copy this wide: their statistics do not need more pixels.
WORK_WIDTH = 320
SHARPNESS_SIDE = 128
# Where the eye line sits inside a Haar face box, when the eyes themselves are not found.
EYE_LINE_IN_BOX = 0.37


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


@dataclass(frozen=True)
class HeadGeometry:
    """Where the head is, in image pixels (crown and chin estimated from the head model)."""

    crown: float
    chin: float
    eye_y: float
    centre_x: float

    @property
    def height(self) -> float:
        """Chin to crown in pixels."""
        return self.chin - self.crown


def head_geometry(face: Face, t: Thresholds = DEFAULT_THRESHOLDS) -> HeadGeometry:
    """Crown, chin, eye line and centre of a face from its eyes and box (ICAO 9303-3 §3.9 geometry)."""
    x, y, side, _ = face.box
    by_box = t.head_per_face_box * side
    ipd, mid = face.eye_distance, face.eye_mid
    if ipd is None or mid is None:
        height = by_box
        eye_y, centre_x = y + EYE_LINE_IN_BOX * side, x + side / 2
    else:
        height = (by_box + t.head_per_eye_distance * ipd) / 2
        eye_y, centre_x = mid[1], mid[0]
    crown = eye_y - t.eye_line_in_head * height
    return HeadGeometry(crown=crown, chin=crown + height, eye_y=eye_y, centre_x=centre_x)


def _range(values: tuple[float, float], unit: str = "") -> str:
    return f"{values[0]:g}-{values[1]:g}{unit}"


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%"


def _blockiness(gray: np.ndarray) -> float:
    """Strongest 8-px periodic step in the gradient profile, over the median phase."""

    def fold(diffs: np.ndarray) -> float:
        profile = diffs.mean(axis=0)
        usable = len(profile) - len(profile) % 8
        phases = profile[:usable].reshape(-1, 8).mean(axis=0)
        return float(phases.max() / max(float(np.median(phases)), 1e-3))

    g = gray.astype(np.int16)
    horizontal = np.abs(np.diff(g[::4, :], axis=1))
    vertical = np.abs(np.diff(g[:, ::4], axis=0)).T
    return (fold(horizontal) + fold(vertical)) / 2


def _face_region(face: Face, scale: float, shape: tuple[int, ...]) -> tuple[slice, slice]:
    """Skin area (forehead to mouth, cheek to cheek) in the working copy."""
    x, y, side, _ = face.box
    x0, x1 = int((x + 0.22 * side) * scale), int((x + 0.78 * side) * scale)
    y0, y1 = int((y + 0.18 * side) * scale), int((y + 0.92 * side) * scale)
    h, w = shape[:2]
    return slice(max(0, y0), min(h, y1)), slice(max(0, x0), min(w, x1))


def _sharpness(gray: np.ndarray, face: Face) -> float:
    """Laplacian energy of the face at a fixed scale, relative to its contrast (scale-free)."""
    x, y, side, _ = face.box
    h, w = gray.shape
    x0, y0 = max(0, int(x + 0.15 * side)), max(0, int(y + 0.15 * side))
    x1, y1 = min(w, int(x + 0.85 * side)), min(h, int(y + 0.85 * side))
    crop = cv2.resize(gray[y0:y1, x0:x1], (SHARPNESS_SIDE, SHARPNESS_SIDE),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
    lap = cv2.Laplacian(crop, cv2.CV_32F)
    return float(np.abs(lap).mean() / max(float(crop.std()), 1.0) * 100)


def _background_mask(geo: HeadGeometry, scale: float, shape: tuple[int, ...]) -> np.ndarray:
    """Pixels above the chin line and outside a generous ellipse around head and hair."""
    h, w = shape[:2]
    head = geo.height * scale
    cy = (geo.crown * scale) + head / 2
    cx = geo.centre_x * scale
    # Hair reaches about 0.9 head heights across; the margin keeps its edge out of the sample.
    ax, ay = 0.5 * head * 1.0, 0.5 * head * 1.12
    yy, xx = np.ogrid[:h, :w]
    outside = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 > 1.0
    above_shoulders = yy < int(geo.chin * scale - 0.1 * head)
    return np.asarray(outside & above_shoulders)


def assess_photo(image: Image.Image | np.ndarray, thresholds: Thresholds | None = None) -> QualityReport:
    """Run every ICAO quality check on an RGB photo and return the full report."""
    t = thresholds or DEFAULT_THRESHOLDS
    rgb = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    H, W = gray.shape
    checks: list[Check] = []

    def add(name: str, value: float | None, threshold: str, ok: bool, why: Callable[[], str]) -> None:
        checks.append(Check(name, None if value is None else round(float(value), 4), threshold,
                            bool(ok), "ok" if ok else why()))

    faces = find_faces(gray)
    add("face_count", len(faces), "exactly 1", len(faces) == 1,
        lambda: "no face found: the applicant must face the camera, nothing covering the face"
        if not faces else f"{len(faces)} faces found: only the applicant may be in the photo")
    block = _blockiness(gray)
    add("blockiness", block, f"<= {t.max_blockiness:g}", block <= t.max_blockiness,
        lambda: "the photo is over-compressed (JPEG blocks visible): re-take or export at higher quality")
    if len(faces) != 1:
        return QualityReport(tuple(checks))
    face = faces[0]
    geo = head_geometry(face, t)

    ratio = geo.height / H
    lo, hi = t.head_height
    add("head_height", ratio, _range(t.head_height), lo <= ratio <= hi,
        lambda: (f"move closer: head is {_pct(ratio)} of the image height, needs "
                 f"{_pct(lo)}-{_pct(hi)}") if ratio < lo else
        (f"move back: head is {_pct(ratio)} of the image height, needs {_pct(lo)}-{_pct(hi)}"))
    margin = min(geo.crown, H - geo.chin) / H
    add("head_in_frame", margin, f">= {t.min_head_margin:g}", margin >= t.min_head_margin,
        lambda: "the top of the head is cut off: lower the camera or step back"
        if geo.crown < H - geo.chin else "the chin is cut off: raise the camera or step back")

    ipd = face.eye_distance
    add("eye_distance", ipd, f">= {t.min_eye_distance_px:g} px",
        ipd is not None and ipd >= t.min_eye_distance_px,
        lambda: "eyes not found: eyes open, no glare on glasses, hair away from the eyes"
        if ipd is None else f"resolution too low: {ipd:.0f} px between the eyes, needs "
        f"{t.min_eye_distance_px:.0f}; use a higher resolution or move closer")
    eye_pos = geo.eye_y / H
    add("eye_line", eye_pos, _range(t.eye_line), t.eye_line[0] <= eye_pos <= t.eye_line[1],
        lambda: f"eye line at {_pct(eye_pos)} from the top, needs {_range(t.eye_line)}: "
        + ("lower the camera" if eye_pos < t.eye_line[0] else "raise the camera"))
    roll = face.roll_deg if face.roll_deg is not None else (face.search_angle or None)
    add("roll", roll, f"<= {t.max_roll_deg:g} deg",
        roll is not None and abs(roll) <= t.max_roll_deg,
        lambda: "eyes not found, roll cannot be measured" if roll is None
        else f"head tilted {abs(roll):.0f} degrees: hold the head straight, eyes level")
    mid = face.eye_mid
    pose = abs(mid[0] - face.centre[0]) / ipd if mid is not None and ipd else None
    add("frontal_pose", pose, f"<= {t.max_pose_offset:g}",
        pose is not None and pose <= t.max_pose_offset,
        lambda: "eyes not found, pose cannot be measured" if pose is None
        else "head turned: look straight into the camera")
    cx = geo.centre_x / W
    add("centring", cx, _range(t.centring), t.centring[0] <= cx <= t.centring[1],
        lambda: f"face centre at {_pct(cx)} of the width, needs {_range(t.centring)}: "
        "move to the middle of the frame")

    sharp = _sharpness(gray, face)
    add("sharpness", sharp, f">= {t.min_sharpness:g}", sharp >= t.min_sharpness,
        lambda: "the photo is blurred: hold still, focus on the eyes")

    scale = WORK_WIDTH / W
    small = cv2.resize(rgb, (WORK_WIDTH, max(1, round(H * scale))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    lum = lab[..., 0]  # OpenCV scales 8-bit L* to 0-255
    rows, cols = _face_region(face, scale, small.shape)
    skin = lum[rows, cols]
    mean_l = float(skin.mean())
    clipped = float(((skin >= 250) | (skin <= 5)).mean())
    lo_e, hi_e = t.exposure
    add("exposure", mean_l, f"{_range(t.exposure)}; clipped <= {_pct(t.max_clipped_fraction)}",
        lo_e <= mean_l <= hi_e and clipped <= t.max_clipped_fraction,
        lambda: "under-exposed: face too dark, add light" if mean_l < lo_e or (
            clipped > t.max_clipped_fraction and mean_l < 128)
        else "over-exposed: face washed out, reduce light or flash")
    p5, p95 = np.percentile(skin, [5, 95])
    spread = float(p95 - p5)
    add("contrast", spread, f">= {t.min_contrast:g}", spread >= t.min_contrast,
        lambda: "contrast too low: the face looks flat or hazy, check lighting and camera settings")
    split = int(geo.centre_x * scale) - cols.start
    left, right = skin[:, : max(1, split)], skin[:, max(1, split):]
    imbalance = abs(float(left.mean()) - float(right.mean())) / max(float(left.mean()),
                                                                      float(right.mean()), 1.0)
    add("illumination_uniformity", imbalance, f"<= {t.max_illumination_imbalance:g}",
        imbalance <= t.max_illumination_imbalance,
        lambda: "one side of the face is darker: light the face evenly from both sides")

    bg = _background_mask(geo, scale, small.shape)
    if bg.sum() < 50:
        # Head fills the frame: fall back to the top corners, the last place background shows.
        corner = max(2, int(0.06 * small.shape[1]))
        bg[:corner, :corner] = bg[:corner, -corner:] = True
    gray_small = lum.astype(np.uint8)
    texture_map = np.abs(cv2.Laplacian(cv2.GaussianBlur(gray_small, (3, 3), 0), cv2.CV_32F))
    texture = float(np.mean(texture_map[bg]))
    add("background_uniformity", texture, f"<= {t.max_background_texture:g}",
        texture <= t.max_background_texture,
        lambda: "background is not plain: use a plain light wall with nothing behind the applicant")
    bg_l = float(np.median(lum[bg]))
    add("background_brightness", bg_l, f">= {t.min_background_luminance:g}",
        bg_l >= t.min_background_luminance,
        lambda: "background too dark: use a light background and light it")
    bg_a, bg_b = float(np.median(lab[..., 1][bg])) - 128, float(np.median(lab[..., 2][bg])) - 128
    bg_chroma = float(np.hypot(bg_a, bg_b))
    add("background_colour", bg_chroma, f"<= {t.max_background_chroma:g}",
        bg_chroma <= t.max_background_chroma,
        lambda: "background is coloured: it must be white, off-white or light grey")

    a = float(lab[..., 1][rows, cols].mean()) - 128
    b = float(lab[..., 2][rows, cols].mean()) - 128
    hue = float(np.degrees(np.arctan2(b, a)))
    chroma = float(np.hypot(a, b))
    lo_h, hi_h = t.skin_hue
    add("colour_cast", hue, f"skin hue {_range(t.skin_hue, ' deg')}; chroma <= {t.max_skin_chroma:g}",
        lo_h <= hue <= hi_h and chroma <= t.max_skin_chroma,
        lambda: "colour cast: skin tones look " + ("yellow/orange" if hue > hi_h or chroma >
                                                    t.max_skin_chroma else "blue/green")
        + "; set the camera's white balance for the studio light")
    return QualityReport(tuple(checks))
