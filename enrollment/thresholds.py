"""The one table of photo quality thresholds (ICAO 9303-3 §3.9, ISO/IEC 19794-5 §8, 29794-5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """Every limit the photo checks use; override per state with `with_overrides`."""

    # Geometry, as fractions of the image (ICAO 9303-3: chin to crown 70-80% of the height).
    head_height: tuple[float, float] = (0.70, 0.80)
    # Eye line measured from the top (ISO/IEC 19794-5 full frontal: 50-70% from the bottom).
    eye_line: tuple[float, float] = (0.30, 0.50)
    # Horizontal position of the face centre (ISO/IEC 19794-5: 45-55% of the width).
    centring: tuple[float, float] = (0.45, 0.55)
    min_eye_distance_px: float = 90.0
    # Roll tolerance in degrees; tighter than 19794-5's 8 so that a visibly tilted head fails.
    max_roll_deg: float = 4.0
    # Offset of the eye midpoint from the face centre, in eye distances (a yaw proxy).
    max_pose_offset: float = 0.15
    # Crown to frame edge may not be negative: the whole head must be in the picture.
    min_head_margin: float = 0.0

    # Photometric measures on the face region (8-bit luminance unless stated).
    min_sharpness: float = 10.0
    exposure: tuple[float, float] = (85.0, 205.0)
    max_clipped_fraction: float = 0.08
    min_contrast: float = 70.0
    max_illumination_imbalance: float = 0.25
    # Skin hue (degrees in CIELAB a*b*) and chroma band a neutral white balance keeps.
    skin_hue: tuple[float, float] = (20.0, 88.0)
    max_skin_chroma: float = 34.0

    # Background (ICAO: plain, light, no pattern).
    max_background_texture: float = 1.2
    min_background_luminance: float = 150.0
    max_background_chroma: float = 12.0

    # JPEG blocking: block-boundary to in-block gradient ratio.
    max_blockiness: float = 1.6

    # Head model (adult proportions, calibrated on the reference portrait): chin-to-crown
    # height in eye distances and in Haar face-box sides, and where the eye line falls
    # within it measured from the crown. Two estimates are averaged to halve their jitter.
    head_per_eye_distance: float = 3.28
    head_per_face_box: float = 1.58
    eye_line_in_head: float = 0.54

    def with_overrides(self, **values: object) -> Thresholds:
        """A copy with some thresholds changed; unknown names are an error."""
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise KeyError(f"unknown thresholds: {sorted(unknown)}")
        return replace(self, **values)  # type: ignore[arg-type]


DEFAULT_THRESHOLDS = Thresholds()


def thresholds_from_config(extra: Mapping[str, Any]) -> Thresholds:
    """Thresholds with the overrides of a `photo_thresholds` table in the configuration."""
    table = extra.get("photo_thresholds") or {}
    # TOML gives lists for ranges; the table keeps tuples.
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(table).items()}
    return DEFAULT_THRESHOLDS.with_overrides(**values)
