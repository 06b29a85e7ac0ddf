"""`photo check` and `photo crop` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from photo_corpus import CorpusSet, Frame, png

from enrollment.cli import photo
from enrollment.photo.checks import assess_photo
from enrollment.photo.intake import decode_image


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(photo, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_good_photo_passes_with_exit_0(corpus: CorpusSet) -> None:
    code, out = _run("check", str(corpus.folder / "good" / "good_default.png"))
    assert code == 0
    assert "photo passes" in out


def test_defect_fails_with_exit_1_and_json_report(corpus: CorpusSet) -> None:
    code, out = _run("check", str(corpus.folder / "defect" / "blurred__sharpness.png"), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["passed"] is False
    by_name = {c["name"]: c for c in data["checks"]}
    assert by_name["sharpness"]["passed"] is False
    assert set(by_name["sharpness"]) == {"name", "value", "threshold", "passed", "reason", "reason_ar",
                                         "points"}
    assert len(data["guides"]["landmarks"]) == 5 and data["guides"]["crown_found"] is True


def test_text_report_names_the_failed_check_and_reason(corpus: CorpusSet) -> None:
    code, out = _run("check", str(corpus.folder / "defect" / "too_small__head_height.png"))
    assert code == 1
    assert "FAIL  head_height" in out and "move closer" in out


@pytest.mark.parametrize("name", ["truncated.jpg", "zero.jpg", "bomb.png", "text.jpg",
                                  "huge_header.jpg", "huge_header.png"])
def test_bad_file_exits_2(name: str, corpus: CorpusSet) -> None:
    code, out = _run("check", str(corpus.folder / "bad" / name))
    assert code == 2
    assert "unreadable" in out


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, _ = _run("check", str(tmp_path / "nope.jpg"))
    assert code == 2


def test_crop_writes_a_compliant_photo(corpus: CorpusSet, tmp_path: Path) -> None:
    source = tmp_path / "snapshot.png"
    source.write_bytes(png(corpus.maker.good(Frame(width=800, height=1000, head_ratio=0.55,
                                                   centre_x=0.42, top_margin=0.18))))
    out = tmp_path / "crop.jpg"
    code, text = _run("crop", str(source), str(out))
    assert code == 0, text
    img = decode_image(out.read_bytes())
    assert img.size == (413, 531)
    assert assess_photo(img).passed


def test_crop_without_a_face_exits_1(corpus: CorpusSet, tmp_path: Path) -> None:
    code, out = _run("crop", str(corpus.folder / "defect" / "no_face__face_count.png"),
                     str(tmp_path / "x.png"))
    assert code == 1 and "cannot crop" in out
    assert not (tmp_path / "x.png").exists()


def test_crop_of_bad_file_exits_2(corpus: CorpusSet, tmp_path: Path) -> None:
    code, _ = _run("crop", str(corpus.folder / "bad" / "text.jpg"), str(tmp_path / "x.png"))
    assert code == 2
