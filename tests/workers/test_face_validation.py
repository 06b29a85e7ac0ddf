"""Face matching at validation: the same face under two national numbers is held as FACE_DUPLICATE."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from enrollment.photo.samples import GRACE_HOPPER, TAKEO, Frame, Portraits, jpeg
from issuance.config import Settings
from issuance.models import Application, FaceDescriptor, User
from issuance.runtime import Runtime
from tests.workers.conftest import eligible
from tests.workers.face_helpers import outcome, submit_with_faces
from workers import validation


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    hopper, takeo = Portraits(GRACE_HOPPER), Portraits(TAKEO)
    return {
        "hopper": jpeg(hopper.good(Frame(width=413, height=531))),
        # The same woman at another sitting: other framing and backdrop, mirrored.
        "hopper_again": jpeg(hopper.good(Frame(width=413, height=531, head_ratio=0.73),
                                         colour=(214, 216, 218))[:, ::-1].copy()),
        "takeo": jpeg(takeo.good(Frame(width=413, height=531))),
    }


@pytest.fixture
def frt(vsettings: Settings) -> Iterator[Runtime]:
    rt = Runtime(dataclasses.replace(vsettings, extra={**vsettings.extra, "face_matching": True}))
    yield rt
    rt.close()


def _submitted(rt: Runtime, clerk: User, faces: list[bytes], skip: int) -> list[int]:
    return submit_with_faces(rt, clerk, eligible(len(faces), skip=skip), faces)


def test_second_enrolment_of_a_face_is_a_duplicate(frt: Runtime, clerk: User,
                                                   photos: dict[str, bytes]) -> None:
    (first,) = _submitted(frt, clerk, [photos["hopper"]], skip=20)
    validation.validate(frt, [first])
    assert outcome(frt, first) == ("approved", [])
    second, other = _submitted(frt, clerk, [photos["hopper_again"], photos["takeo"]], skip=21)
    validation.validate(frt, [second, other])
    state, codes = outcome(frt, second)
    assert (state, codes) == ("exception", ["FACE_DUPLICATE"])
    assert outcome(frt, other) == ("approved", [])
    with frt.db.session() as s:
        app = s.get_one(Application, second)
        assert str(first) in app.outcome_reasons[0]["message"]  # type: ignore[index]
        kept = set(s.scalars(select(FaceDescriptor.application_id)))
    assert kept == {first, second, other}


def test_duplicates_in_one_batch_are_caught(frt: Runtime, clerk: User, photos: dict[str, bytes]) -> None:
    ids = _submitted(frt, clerk, [photos["takeo"], photos["hopper"], photos["hopper_again"]], skip=30)
    validation.validate(frt, ids)
    assert [outcome(frt, i) for i in ids] == [
        ("approved", []), ("approved", []), ("exception", ["FACE_DUPLICATE"])]


def test_face_matching_is_off_by_default(vruntime: Runtime, clerk: User, photos: dict[str, bytes]) -> None:
    ids = _submitted(vruntime, clerk, [photos["hopper"], photos["hopper_again"]], skip=40)
    validation.validate(vruntime, ids)
    assert [outcome(vruntime, i)[0] for i in ids] == ["approved", "approved"]
