"""Card designs: loaded from TOML, validated with errors that name the element and the rule."""

from __future__ import annotations

import copy
import random
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from issuance.cli.main import main
from printing.card_face import CardFace
from printing.design import DESIGNS_DIR, DesignError, load_design, parse_design
from printing.render import card_pixels, render_card

DEFAULT = DESIGNS_DIR / "default.toml"


def _raw() -> dict[str, Any]:
    return tomllib.loads(DEFAULT.read_text(encoding="utf-8"))


def _element(raw: dict[str, Any], side: str, element_id: str) -> dict[str, Any]:
    return next(e for e in raw[side]["elements"] if e["id"] == element_id)


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(DesignError) as info:
        parse_design(raw, DEFAULT)
    return str(info.value)


@pytest.mark.parametrize("name", ["default", "redesign-2027"])
def test_every_shipped_design_loads_and_renders_without_code(name: str, face: CardFace) -> None:
    design = load_design(name)
    card = render_card(face, design)
    assert card.front.size == card.back.size == card_pixels(300) == (1011, 638)
    assert design.element("back", "mrz").y >= 53.98 - 17.9


def test_a_second_design_changes_the_card_from_data_alone(face: CardFace) -> None:
    one, two = load_design("default"), load_design("redesign-2027")
    assert one.element("front", "photo").x != two.element("front", "photo").x
    front_one = render_card(face, one).front
    front_two = render_card(face, two).front
    assert front_one.tobytes() != front_two.tobytes()


def test_unknown_key_names_the_element() -> None:
    raw = _raw()
    _element(raw, "front", "name_en")["colr"] = "#000"
    message = _error(raw)
    assert "'name_en'" in message and "unknown key 'colr'" in message


def test_unknown_field_names_the_element() -> None:
    raw = _raw()
    _element(raw, "front", "name_en")["field"] = "mother_name"
    message = _error(raw)
    assert "'name_en'" in message and "unknown field 'mother_name'" in message


def test_element_outside_the_card_is_refused() -> None:
    raw = _raw()
    _element(raw, "front", "photo")["x"] = 70
    message = _error(raw)
    assert "'photo'" in message and "outside the card" in message


def test_element_in_the_mrz_zone_is_refused() -> None:
    raw = _raw()
    _element(raw, "back", "issue_date")["y"] = 36.5
    message = _error(raw)
    assert "'issue_date'" in message and "overlaps the MRZ zone" in message


def test_mrz_must_sit_in_the_icao_zone_and_only_once() -> None:
    raw = _raw()
    _element(raw, "back", "mrz")["y"] = 30
    assert "must lie in the bottom 17.9 mm" in _error(raw)
    raw = _raw()
    raw["back"]["elements"] = [e for e in raw["back"]["elements"] if e["kind"] != "mrz"]
    assert "exactly one mrz" in _error(raw)
    raw = _raw()
    raw["front"]["elements"].append(copy.deepcopy(_element(_raw(), "back", "mrz")) | {"id": "mrz2", "y": 38})
    assert "'mrz2'" in _error(raw) and "belongs on the back" in _error(raw)


def test_other_rules_name_what_is_wrong(tmp_path: Path) -> None:
    raw = _raw()
    _element(raw, "front", "header_band")["colour"] = "not-a-colour"
    assert "'header_band' colour" in _error(raw)
    raw = _raw()
    _element(raw, "front", "name_ar")["font"] = "comic"
    assert "unknown font 'comic'" in _error(raw)
    raw = _raw()
    raw["front"]["elements"].append(copy.deepcopy(_element(raw, "front", "photo")))
    assert "'photo': the id is used twice" in _error(raw)
    raw = _raw()
    _element(raw, "front", "emblem")["file"] = "missing.png"
    assert "'emblem'" in _error(raw) and "missing.png" in _error(raw)
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [", encoding="utf-8")
    with pytest.raises(DesignError, match="broken.toml: not valid TOML"):
        load_design(broken)


def _mutate(value: Any, rng: random.Random) -> Any:
    return rng.choice([None, -5, 1e9, "", "zz", [], {}, True, 3.5, "#12345", "arabic", value])


def test_fuzzed_designs_raise_only_design_errors() -> None:
    """Random damage to every key of the default design: a DesignError or a valid design, never a crash."""
    rng = random.Random(1404)
    for _ in range(400):
        raw = _raw()
        for _ in range(rng.randint(1, 3)):
            side = rng.choice(["front", "back"])
            element = rng.choice(raw[side]["elements"])
            key = rng.choice([*element, "extra"])
            element[key] = _mutate(element.get(key), rng)
        if rng.random() < 0.1:
            raw[rng.choice(["front", "back", "date_format", "name"])] = _mutate(None, rng)
        try:
            parse_design(raw, DEFAULT)
        except DesignError as exc:
            assert str(exc).startswith("design default.toml")


def test_card_design_cli_checks_and_renders(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["card-design", "check", "redesign-2027"])
    assert result.exit_code == 0 and "valid" in result.output
    raw = DEFAULT.read_text(encoding="utf-8").replace('id = "photo"\n', 'id = "photo"\nzoom = 2\n')
    (tmp_path / "bad.toml").write_text(raw, encoding="utf-8")
    (tmp_path / "emblem.png").write_bytes((DESIGNS_DIR / "emblem.png").read_bytes())
    result = runner.invoke(main, ["card-design", "check", str(tmp_path / "bad.toml")])
    assert result.exit_code == 1 and "'photo'" in result.output and "unknown key 'zoom'" in result.output
    result = runner.invoke(main, ["card-design", "sample", "default", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"front.png", "back.png", "front-k.png",
                                                            "back-k.png", "card.pdf"}
