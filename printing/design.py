"""Card designs as data: TOML files placing every element in millimetres on the ID-1 card."""

from __future__ import annotations

import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import ImageColor

from printing.card_face import TEXT_FIELDS
from printing.fonts import FONT_FILES
from printing.mrz import CHAR_PITCH_MM, LINE_PITCH_MM, TD1_LENGTH, TD1_LINES, ZONE_HEIGHT_MM

CARD_WIDTH_MM = 85.60
CARD_HEIGHT_MM = 53.98
DESIGNS_DIR = Path(__file__).parent / "designs"
SIDES = ("front", "back")
IMAGE_SOURCES = frozenset({"photo", "ghost", "signature", "emblem"})
_GEOMETRY = ("x", "y", "w", "h")
_KEYS: dict[str, frozenset[str]] = {
    "text": frozenset({"kind", "id", *_GEOMETRY, "field", "text", "font", "size", "colour", "align",
                       "direction", "digits"}),
    "image": frozenset({"kind", "id", *_GEOMETRY, "source", "file"}),
    "box": frozenset({"kind", "id", *_GEOMETRY, "colour"}),
    "seal": frozenset({"kind", "id", *_GEOMETRY}),
    "mrz": frozenset({"kind", "id", *_GEOMETRY}),
}
_TOP_KEYS = frozenset({"name", "description", "date_format", "front", "back"})
_SIDE_KEYS = frozenset({"background", "elements"})


class DesignError(ValueError):
    """A design file breaks a rule; the message names the file, the element and the rule."""


@dataclass(frozen=True)
class Element:
    """One placed element; geometry in millimetres from the card's top-left corner."""

    kind: str
    id: str
    x: float
    y: float
    w: float
    h: float
    field: str = ""
    text: str = ""
    font: str = "latin"
    size: float = 7.0
    colour: tuple[int, int, int] = (0, 0, 0)
    align: str = "left"
    direction: str = "ltr"
    digits: str = "latin"
    source: str = ""
    file: Path | None = None

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, top: float, bottom: float, left: float, right: float) -> bool:
        return self.y < bottom and self.bottom > top and self.x < right and self.x + self.w > left


@dataclass(frozen=True)
class Side:
    background: tuple[int, int, int]
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Design:
    """A validated card design: two sides, a date format and where it came from."""

    name: str
    date_format: str
    front: Side
    back: Side
    source: Path = field(default=Path("."))

    def side(self, name: str) -> Side:
        return self.front if name == "front" else self.back

    def element(self, side: str, element_id: str) -> Element:
        for element in self.side(side).elements:
            if element.id == element_id:
                return element
        raise KeyError(f"{side} has no element {element_id!r}")


def design_path(name: str) -> Path:
    """A design by name from printing/designs/, or a path to any TOML file."""
    candidate = Path(name)
    if candidate.suffix == ".toml":
        return candidate
    return DESIGNS_DIR / f"{name}.toml"


def load_design(name: str | Path = "default") -> Design:
    """Read and validate a design; any broken rule raises DesignError naming the element."""
    path = design_path(str(name))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DesignError(f"design {path.name}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(f"design {path.name}: not valid TOML: {exc}") from exc
    return parse_design(raw, path)


def parse_design(raw: dict[str, Any], path: Path) -> Design:
    """Validate a design read from TOML (ICAO 9303-5: the MRZ zone of the back is reserved)."""
    where = f"design {path.name}"
    _no_unknown(raw, _TOP_KEYS, where)
    date_format = raw.get("date_format", "%d/%m/%Y")
    if not isinstance(date_format, str) or "%" not in date_format:
        raise DesignError(f"{where}: date_format must be a strftime pattern such as '%d/%m/%Y'")
    sides = {name: _side(raw.get(name), f"{where}, {name}", path.parent) for name in SIDES}
    _check_mrz(sides, where)
    return Design(name=str(raw.get("name", path.stem)), date_format=date_format,
                  front=sides["front"], back=sides["back"], source=path)


def _one_of(value: Any, allowed: Collection[str]) -> bool:
    """Membership that a list or table from TOML cannot crash (they are unhashable)."""
    return isinstance(value, str) and value in allowed


def _no_unknown(table: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise DesignError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _side(raw: Any, where: str, folder: Path) -> Side:
    if not isinstance(raw, dict):
        raise DesignError(f"{where}: missing table [{where.rsplit(', ', 1)[-1]}]")
    _no_unknown(raw, _SIDE_KEYS, where)
    background = _colour(raw.get("background", "#ffffff"), f"{where} background")
    items = raw.get("elements", [])
    if not isinstance(items, list):
        raise DesignError(f"{where}: elements must be an array of tables ([[{where}.elements]])")
    elements = tuple(_element(item, f"{where} element #{n}", folder) for n, item in enumerate(items, 1))
    seen: set[str] = set()
    for element in elements:
        if element.id in seen:
            raise DesignError(f"{where} element {element.id!r}: the id is used twice")
        seen.add(element.id)
    return Side(background=background, elements=elements)


def _colour(value: Any, where: str) -> tuple[int, int, int]:
    try:
        red, green, blue = ImageColor.getrgb(str(value))[:3]
    except ValueError as exc:
        raise DesignError(f"{where}: {value!r} is not a colour ('#rrggbb' or a CSS name)") from exc
    return red, green, blue


def _element(raw: Any, where: str, folder: Path) -> Element:
    if not isinstance(raw, dict):
        raise DesignError(f"{where}: must be a table")
    element_id = str(raw.get("id", ""))
    if element_id:
        where = f"{where.rsplit(' element', 1)[0]} element {element_id!r}"
    else:
        raise DesignError(f"{where}: needs an id")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise DesignError(f"{where}: kind must be one of {', '.join(sorted(_KEYS))}, got {kind!r}")
    _no_unknown(raw, _KEYS[kind], where)
    x, y, w, h = _geometry(raw, where)
    options = {key: value for key, value in raw.items() if key not in {"kind", "id", *_GEOMETRY}}
    typed: dict[str, Any] = _typed_options(kind, options, where, folder)
    return Element(kind, element_id, x, y, w, h, **typed)


def _geometry(raw: dict[str, Any], where: str) -> tuple[float, float, float, float]:
    values: dict[str, float] = {}
    for key in _GEOMETRY:
        value = raw.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise DesignError(f"{where}: {key} must be a number of millimetres")
        values[key] = float(value)
    x, y, w, h = (values[k] for k in _GEOMETRY)
    if w <= 0 or h <= 0:
        raise DesignError(f"{where}: w and h must be positive")
    if x < 0 or y < 0 or x + w > CARD_WIDTH_MM + 1e-9 or y + h > CARD_HEIGHT_MM + 1e-9:
        raise DesignError(f"{where}: outside the card ({x}, {y}, {w} x {h} mm on "
                          f"{CARD_WIDTH_MM} x {CARD_HEIGHT_MM} mm)")
    return x, y, w, h


def _typed_options(kind: str, options: dict[str, Any], where: str, folder: Path) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    if "colour" in options:
        typed["colour"] = _colour(options["colour"], f"{where} colour")
    if kind == "text":
        typed.update(_text_options(options, where))
    if kind == "image":
        typed.update(_image_options(options, where, folder))
    return typed


def _choice(options: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = options.get(key, allowed[0])
    if value not in allowed:
        raise DesignError(f"{where}: {key} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _text_options(options: dict[str, Any], where: str) -> dict[str, Any]:
    has_field, has_text = "field" in options, "text" in options
    if has_field == has_text:
        raise DesignError(f"{where}: a text element needs exactly one of field or text")
    if has_field and not _one_of(options["field"], TEXT_FIELDS):
        raise DesignError(f"{where}: unknown field {options['field']!r} "
                          f"(known: {', '.join(sorted(TEXT_FIELDS))})")
    font = options.get("font", "latin")
    if not _one_of(font, FONT_FILES):
        raise DesignError(f"{where}: unknown font {font!r} (known: {', '.join(sorted(FONT_FILES))})")
    size = options.get("size", 7.0)
    if not isinstance(size, int | float) or not 2 <= size <= 40:
        raise DesignError(f"{where}: size must be 2 to 40 points")
    return {
        "field": str(options.get("field", "")), "text": str(options.get("text", "")), "font": font,
        "size": float(size), "align": _choice(options, "align", ("left", "right", "center"), where),
        "direction": _choice(options, "direction", ("ltr", "rtl"), where),
        "digits": _choice(options, "digits", ("latin", "arabic-indic"), where),
    }


def _image_options(options: dict[str, Any], where: str, folder: Path) -> dict[str, Any]:
    source = options.get("source")
    if not _one_of(source, IMAGE_SOURCES):
        known = ", ".join(sorted(IMAGE_SOURCES))
        raise DesignError(f"{where}: source must be one of {known}, got {source!r}")
    typed: dict[str, Any] = {"source": source}
    if source == "emblem":
        name = options.get("file")
        if not isinstance(name, str) or not (folder / name).is_file():
            raise DesignError(f"{where}: an emblem needs a file next to the design, got {name!r}")
        typed["file"] = folder / name
    elif "file" in options:
        raise DesignError(f"{where}: only an emblem takes a file")
    return typed


def _check_mrz(sides: dict[str, Side], where: str) -> None:
    """Exactly one MRZ, on the back, inside the TD1 zone; nothing else may enter the zone."""
    zone_top = CARD_HEIGHT_MM - ZONE_HEIGHT_MM
    for element in sides["front"].elements:
        if element.kind == "mrz":
            raise DesignError(f"{where}, front element {element.id!r}: the TD1 MRZ belongs on the back")
    mrz = [e for e in sides["back"].elements if e.kind == "mrz"]
    if len(mrz) != 1:
        raise DesignError(f"{where}, back: needs exactly one mrz element, found {len(mrz)}")
    zone = mrz[0]
    if zone.y < zone_top - 1e-9:
        raise DesignError(f"{where}, back element {zone.id!r}: the MRZ must lie in the bottom "
                          f"{ZONE_HEIGHT_MM} mm of the card (ICAO 9303-5), starts at y={zone.y}")
    if zone.w < TD1_LENGTH * CHAR_PITCH_MM or zone.h < TD1_LINES * LINE_PITCH_MM:
        raise DesignError(f"{where}, back element {zone.id!r}: too small for 3 lines of 30 characters "
                          f"(needs {TD1_LENGTH * CHAR_PITCH_MM:.1f} x {TD1_LINES * LINE_PITCH_MM:.1f} mm)")
    for element in sides["back"].elements:
        if element.kind != "mrz" and element.overlaps(zone_top, CARD_HEIGHT_MM, 0, CARD_WIDTH_MM):
            raise DesignError(f"{where}, back element {element.id!r}: overlaps the MRZ zone "
                              f"(the bottom {ZONE_HEIGHT_MM} mm of the back, ICAO 9303-5)")
    if len([e for e in sides["back"].elements if e.kind == "seal"]) > 1:
        raise DesignError(f"{where}, back: at most one seal element")
