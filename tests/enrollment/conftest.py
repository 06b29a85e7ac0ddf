"""Fixtures for the enrollment tests: the generated photo corpus (built once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

import photo_corpus  # noqa: E402


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> photo_corpus.CorpusSet:
    """Generated once per test process (xdist workers each build their own copy)."""
    return photo_corpus.CorpusSet.build(tmp_path_factory.mktemp("photo-corpus"))


@pytest.fixture(scope="session")
def real_faces() -> dict[str, photo_corpus.RealFaces]:
    """Each real person's segmented source, built once per test process."""
    return {p.name: photo_corpus.RealFaces(p) for p in photo_corpus.PEOPLE}
