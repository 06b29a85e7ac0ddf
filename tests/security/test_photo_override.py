"""A photo override accepts one exact photo of a draft waiting on it; a new upload voids it (point 1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from issuance.biometrics import ImageMeta, store_biometric
from issuance.models import Application, BiometricKind, Role, User
from issuance.review import OverrideRefused, override_photo
from issuance.runtime import Runtime
from issuance.states import ApplicationState
from issuance.web.app import create_app
from tests.factories import bearer, enroll_citizens, make_user
from tests.workers.conftest import eligible, registry_db, vruntime, vsettings  # noqa: F401
from workers import validation

FAILED = ImageMeta("image/jpeg", 413, 531)


def _failed_photo(rt: Runtime, app_id: int, data: bytes = b"\xff\xd8 failed photo \xff\xd9") -> None:
    with rt.db.transaction() as s:
        store_biometric(s, rt.vault, app_id, BiometricKind.PHOTO, data, FAILED, "clerk1",
                        quality_passed=False)


def _submit_directly(rt: Runtime, app_id: int) -> None:
    with rt.db.transaction() as s:
        s.execute(update(Application).where(Application.id == app_id)
                  .values(state=ApplicationState.SUBMITTED))


@pytest.fixture
def boss(vruntime: Runtime) -> User:  # noqa: F811
    return make_user(vruntime.db, "boss", Role.SUPERVISOR)


@pytest.fixture
def draft(vruntime: Runtime, clerk: User) -> int:  # noqa: F811
    [app_id] = enroll_citizens(vruntime.db, vruntime.vault, clerk, eligible(1), submit_them=False,
                               photo=False)
    return app_id


@pytest.fixture
def boss_client(vruntime: Runtime, boss: User) -> Iterator[tuple[TestClient, dict[str, str]]]:  # noqa: F811
    app = create_app(vruntime.settings)
    with TestClient(app) as client:
        yield client, bearer(client, "boss")
    app.state.runtime.close()


def test_no_photo_no_override(boss_client: tuple[TestClient, dict[str, str]], draft: int) -> None:
    client, h = boss_client
    r = client.post(f"/api/applications/{draft}/photo-override", headers=h, json={"reason": "scar"})
    assert r.status_code == 409 and "no photo" in r.json()["message"]


def test_only_a_draft_waiting_on_a_failed_photo(vruntime: Runtime, boss: User, draft: int) -> None:  # noqa: F811
    _failed_photo(vruntime, draft)
    _submit_directly(vruntime, draft)
    with pytest.raises(OverrideRefused, match="only a draft"), vruntime.db.transaction() as s:
        override_photo(s, draft, boss, "scar")


def test_a_passed_photo_needs_no_override(vruntime: Runtime, boss: User, clerk: User) -> None:  # noqa: F811
    [app_id] = enroll_citizens(vruntime.db, vruntime.vault, clerk, eligible(1), submit_them=False)
    with pytest.raises(OverrideRefused, match="passed"), vruntime.db.transaction() as s:
        override_photo(s, app_id, boss, "scar")


def test_the_overridden_photo_passes_validation(vruntime: Runtime, boss: User, draft: int) -> None:  # noqa: F811
    _failed_photo(vruntime, draft)
    with vruntime.db.transaction() as s:
        override_photo(s, draft, boss, "facial scar, certificate seen")
    _submit_directly(vruntime, draft)
    assert validation.validate(vruntime, [draft]).outcomes == {"approved": 1}


def test_a_new_upload_voids_the_override(vruntime: Runtime, boss: User, draft: int) -> None:  # noqa: F811
    _failed_photo(vruntime, draft)
    with vruntime.db.transaction() as s:
        override_photo(s, draft, boss, "facial scar, certificate seen")
    _failed_photo(vruntime, draft, b"\xff\xd8 another image, no face at all \xff\xd9")
    with vruntime.db.session() as s:
        app = s.get_one(Application, draft)
        assert app.photo_override_by is None and app.photo_override_digest is None
    _submit_directly(vruntime, draft)
    outcome = validation.validate(vruntime, [draft]).outcomes
    assert outcome == {"exception": 1}


def test_an_override_pointing_at_another_image_is_not_honoured(
    vruntime: Runtime, boss: User, draft: int,  # noqa: F811
) -> None:
    _failed_photo(vruntime, draft)
    with vruntime.db.transaction() as s:
        override_photo(s, draft, boss, "scar")
        # Whoever edits the row directly cannot make it cover a different image.
        s.execute(update(Application).where(Application.id == draft)
                  .values(photo_override_digest="hmac-sha256:" + "0" * 64))
    _submit_directly(vruntime, draft)
    assert validation.validate(vruntime, [draft]).outcomes == {"exception": 1}
