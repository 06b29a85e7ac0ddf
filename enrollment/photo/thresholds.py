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
    # Yaw and pitch from a generic 3-D face (19794-5 asks for 5 degrees; a generic model is off by
    # a few degrees on real faces, pitch more than yaw, so the limits carry that error).
    max_yaw_deg: float = 12.0
    max_pitch_deg: float = 20.0
    # Crown to frame edge may not be negative: the whole head must be in the picture.
    min_head_margin: float = 0.0

    # Photometric measures on the face region (8-bit luminance unless stated).
    min_sharpness: float = 12.0
    exposure: tuple[float, float] = (85.0, 205.0)
    max_clipped_fraction: float = 0.08
    min_contrast: float = 70.0
    max_illumination_imbalance: float = 0.25
    # Skin hue (degrees in CIELAB a*b*) and chroma band a neutral white balance keeps.
    skin_hue: tuple[float, float] = (20.0, 88.0)
    max_skin_chroma: float = 34.0
    # Rosy skin (hue under skin_hue_rosy) is naturally more saturated than a yellow cast allows.
    skin_hue_rosy: float = 60.0
    max_skin_chroma_rosy: float = 42.0

    # Background (ICAO: plain, light, no pattern).
    max_background_texture: float = 1.2
    min_background_luminance: float = 150.0
    max_background_chroma: float = 12.0

    # JPEG blocking: block-boundary to in-block gradient ratio.
    max_blockiness: float = 1.6

    # Expression (over the eye width, or the eye-to-chin distance for the mouth): the dark iris at
    # the eye line and the dark mouth cavity on the pixels; the eye aspect ratio and the inner-lip
    # gap from the 68-point contours (a broad smile shows teeth up to about 0.09).
    min_iris_height: float = 0.12
    max_mouth_cavity: float = 0.08
    min_eye_aspect: float = 0.15
    max_lip_gap: float = 0.15

    # An image whose mean chroma is under this is greyscale and is judged as grey.
    max_grey_chroma: float = 4.0
    # Colour policy (`photo_colour`): colour, greyscale or either.
    colour: str = "either"
    # Landmark model (`photo_landmarks`): "5" (public domain) or "68" (non-commercial licence).
    landmarks: str = "5"

    def with_overrides(self, **values: object) -> Thresholds:
        """A copy with some thresholds changed; unknown names are an error."""
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise KeyError(f"unknown thresholds: {sorted(unknown)}")
        result = replace(self, **values)  # type: ignore[arg-type]
        if result.colour not in COLOUR_POLICIES:
            raise ValueError(f"photo_colour must be one of {', '.join(COLOUR_POLICIES)}, "
                             f"not {result.colour!r}")
        if result.landmarks not in LANDMARK_MODELS:
            raise ValueError(f"photo_landmarks must be one of {', '.join(LANDMARK_MODELS)}, "
                             f"not {result.landmarks!r}")
        return result


COLOUR_POLICIES = ("colour", "greyscale", "either")
LANDMARK_MODELS = ("5", "68")
DEFAULT_THRESHOLDS = Thresholds()


def thresholds_from_config(extra: Mapping[str, Any]) -> Thresholds:
    """Thresholds with the overrides of a `photo_thresholds` table in the configuration."""
    table = extra.get("photo_thresholds") or {}
    # TOML gives lists for ranges; the table keeps tuples.
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(table).items()}
    for setting, name in (("photo_colour", "colour"), ("photo_landmarks", "landmarks")):
        if setting in extra:
            values[name] = str(extra[setting])
    return DEFAULT_THRESHOLDS.with_overrides(**values)
