"""Fixtures for the enrollment tests: the generated photo corpus (built once per session)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import photo_corpus  # noqa: E402


@dataclass(frozen=True)
class PhotoCorpus:
    """The good photos, the labelled defects and the bad files, in memory and on disk."""

    goods: dict[str, np.ndarray]
    defects: dict[str, tuple[str, np.ndarray | bytes]]
    bad_files: dict[str, bytes]
    folder: Path
    maker: photo_corpus.Corpus

    def image(self, item: np.ndarray | bytes) -> Image.Image:
        from enrollment.image_intake import decode_image

        return decode_image(item) if isinstance(item, bytes) else Image.fromarray(item)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhotoCorpus]:
    """Generated once per test process (xdist workers each build their own copy)."""
    folder = tmp_path_factory.mktemp("photo-corpus")
    maker = photo_corpus.Corpus()
    goods, defects, bad = maker.goods(), maker.defects(), photo_corpus.bad_files()
    photo_corpus.write_sets(folder, goods, defects, bad)
    yield PhotoCorpus(goods, defects, bad, folder, maker)
