"""Applications with real faces for the validation tests of face matching (1:1 and 1:N)."""

from __future__ import annotations

from issuance.applications import submit
from issuance.biometrics import ImageMeta, store_biometric
from issuance.demo import population
from issuance.models import Application, BiometricKind, User
from issuance.runtime import Runtime
from issuance.transitions import Actor
from tests.factories import enroll_citizens


def submit_with_faces(rt: Runtime, clerk: User, citizens: list[population.Citizen],
                      faces: list[bytes]) -> list[int]:
    """Submitted applications of `citizens`, each with its face photo (quality passed)."""
    ids = enroll_citizens(rt.db, rt.vault, clerk, citizens, submit_them=False, photo=False)
    with rt.db.transaction() as s:
        for app_id, data in zip(ids, faces, strict=True):
            store_biometric(s, rt.vault, app_id, BiometricKind.PHOTO, data, ImageMeta("image/jpeg", 413, 531),
                            "test", quality_passed=True)
            submit(s, app_id, Actor(clerk.username))
    return ids


def outcome(rt: Runtime, app_id: int) -> tuple[str, list[str]]:
    """The application's state and its reason codes."""
    with rt.db.session() as s:
        app = s.get_one(Application, app_id)
        return str(app.state), [r["code"] for r in app.outcome_reasons or []]
