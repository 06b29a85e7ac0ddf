"""`issuance demo`: sample citizens carried through every stage that exists, on embedded defaults.

Clerks enroll through the enrollment API (real photos and signatures), the validation queue runs
in-process on fakeredis against the reference registry, a supervisor decides the exceptions, and
the approved applications go into a batch. The sample includes a renewal, a deceased citizen, a
duplicate application, a name that does not match the registry and one that nearly does. Each
applicant has a face of their own (synthetic composites, `enrollment.photo.composites`), which the
registry also holds; face matching is on, and one applicant under a second national number wears
another's face: validation holds it as FACE_DUPLICATE and the supervisor rejects it.
"""

from __future__ import annotations

import dataclasses
import secrets
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from enrollment.photo.composites import DEMO_FACES, another_sitting, demo_faces
from enrollment.sample_signatures import sample_signature
from issuance.batches import create_batch
from issuance.config import Settings
from issuance.demo import population
from issuance.demo.cards import personalize_batched
from issuance.demo.printing import DemoPrint, print_demo_cards
from issuance.equipment import add_printer, add_station
from issuance.keyfiles import private_dir, write_private
from issuance.models import Application, Card, Role, User
from issuance.pki.bootstrap import ensure_pki
from issuance.review import resolve_exception
from issuance.runtime import Runtime
from issuance.sites import ensure_site
from issuance.states import ApplicationState
from issuance.transitions import Actor
from issuance.users import add_user
from issuance.web.app import create_app
from workers.queues import VALIDATE, open_queue
from workers.worker import drain

with warnings.catch_warnings():
    # Starlette nudges towards its next HTTP client; the in-process client works as it is.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from fastapi.testclient import TestClient

DEMO_SEED = 9303
ACCOUNTS_FILE = "accounts.txt"
DEMO_USERS = {"clerk": Role.CLERK, "operator": Role.OPERATOR, "supervisor": Role.SUPERVISOR,
              "admin": Role.ADMIN}


@dataclass
class Case:
    """One sample application and what became of it."""

    label: str
    citizen: population.Citizen
    renews: str | None = None
    face: bytes = b""
    number: str = ""
    state: str = ""
    reasons: list[str] = field(default_factory=list)


@dataclass
class Summary:
    """What the demo did, printed as text or JSON."""

    applications: int
    by_state: dict[str, int]
    out_dir: str
    cases: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    printed: int = 0
    print_files: list[str] = field(default_factory=list)
    cards: dict[str, int] = field(default_factory=dict)  # card rows by state, at the end

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FACE_DUPLICATE_LABEL = "face duplicate"
SUPERVISOR_VERDICTS = {  # reason code -> (approve, the supervisor's reason)
    "FACE_DUPLICATE": (False, "the same face is enrolled under another national number"),
}


def faces_fit(count: int) -> bool:
    """True when every applicant of a `count` demo can have a face of their own."""
    return count + 2 <= len(DEMO_FACES)  # the ordinary citizens, the renewal, the near name


def demo_settings(base: Settings, out_dir: Path, face_matching: bool = True) -> Settings:
    """The embedded defaults, with every file the demo writes under `out_dir`."""
    return dataclasses.replace(
        base, data_dir=out_dir, database_url=f"sqlite:///{out_dir / 'demo.db'}",
        registry_url="", registry_database_url=f"sqlite:///{out_dir / 'registry.db'}",
        redis_url="", keystore="software", extra={**base.extra, "face_matching": face_matching},
    )


def sample_cases(citizens: list[population.Citizen], normal: int) -> list[Case]:
    """`normal` eligible citizens, a renewal, and the four cases validation must catch."""
    good = [c for c in citizens if population.eligible(c)]
    dead = next(c for c in citizens if c.death_date is not None and c.active_card is None)
    holder = next(c for c in citizens if c.active_card is not None and c.death_date is None)
    mismatch = dataclasses.replace(good[normal], first_name_ar="زبيدة", family_name_ar="قاسم",
                                   given_names_latin="Zubaida Ali", surname_latin="Qasem")
    near = good[normal + 1]
    near = dataclasses.replace(near, family_name_ar=near.family_name_ar + "ي")
    cases = [
        *(Case("citizen", c) for c in good[:normal]),
        Case("renewal", holder, renews=holder.active_card),
        Case("deceased", dead),
        Case("duplicate", good[0]),
        Case("name mismatch", mismatch),
        Case("name nearly matches", near),
    ]
    return cases + [Case(FACE_DUPLICATE_LABEL, good[normal + 2])] if faces_fit(normal) else cases


def give_faces(cases: list[Case], faces: list[bytes]) -> dict[str, bytes]:
    """A face for each case; returns the registry's reference photos by national number.

    Applications that validation will approve get distinct faces; a rejected one is not searched
    and may share one. The face-duplicate case wears the first citizen's face at another sitting,
    and the registry has no photo of its own citizen, so only the 1:N search can catch it.
    """
    distinct = iter(faces)
    by_number: dict[str, bytes] = {}
    for i, case in enumerate(cases):
        number = case.citizen.national_number
        if case.label == FACE_DUPLICATE_LABEL:
            case.face = another_sitting(cases[0].face)
        elif number in by_number:
            case.face = by_number[number]
        elif case.label in ("deceased", "name mismatch"):
            case.face = faces[i % len(faces)]
        else:
            case.face = by_number[number] = next(distinct, faces[i % len(faces)])
    return by_number


def _api_fields(case: Case) -> dict[str, str]:
    kind = {"kind": "renewal", "replaces_card": case.renews} if case.renews else {}
    person = asdict(case.citizen.person())
    return {**kind, **person, "birth_date": person["birth_date"].isoformat()}


def _check(response: Any, what: str) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"demo: {what} failed ({response.status_code}): {response.text}")
    return response


class CounterClerk:
    """A clerk at the counter, working through the enrollment API."""

    def __init__(self, client: TestClient, username: str, password: str, receipts: Path) -> None:
        self.client, self.receipts = client, receipts
        token = _check(client.post("/api/session", json={"username": username, "password": password}),
                       "sign-in").json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def enroll(self, case: Case) -> Path:
        """Draft, photo, signature, submit; returns the receipt PDF written to disk."""
        base = "/api/enrollment/applications"
        draft = _check(self.client.post(base, json=_api_fields(case), headers=self.headers),
                       f"draft for {case.label}").json()
        app_id, case.number = draft["id"], draft["number"]
        jpeg = {**self.headers, "Content-Type": "image/jpeg"}
        _check(self.client.put(f"{base}/{app_id}/photo", content=case.face, headers=jpeg),
               "photo")
        png = {**self.headers, "Content-Type": "image/png"}
        _check(self.client.put(f"{base}/{app_id}/signature",
                               content=sample_signature(case.citizen.national_number), headers=png),
               "signature")
        _check(self.client.post(f"{base}/{app_id}/submit", headers=self.headers), "submit")
        pdf = _check(self.client.get(f"{base}/{app_id}/receipt", headers=self.headers), "receipt")
        path = self.receipts / f"{case.number}.pdf"
        write_private(path, pdf.content)  # it shows the face and the name
        return path


def _setup(rt: Runtime) -> dict[str, tuple[User, str]]:
    site = rt.settings.site
    users = {}
    with rt.db.transaction() as s:
        ensure_site(s, site, actor="demo")
        for name, role in DEMO_USERS.items():
            password = secrets.token_urlsafe(16)
            users[name] = (add_user(s, name, role, password, actor="demo", site=site), password)
        add_station(s, "S1", site, "", actor="demo")
        # The folder printer writes OUT/cards/<application-number>/ (front.png, back.png, card.pdf).
        add_printer(s, "P1", site, "folder", str(rt.settings.data_dir / "cards"), actor="demo")
    return users


def _decide_exceptions(rt: Runtime, supervisor: User) -> None:
    with rt.db.transaction() as s:
        held = s.scalars(select(Application).where(Application.state == ApplicationState.EXCEPTION)).all()
        for app in held:
            codes = [r["code"] for r in app.outcome_reasons or []]
            approve, reason = next((SUPERVISOR_VERDICTS[c] for c in codes if c in SUPERVISOR_VERDICTS),
                                   (True, "spelling checked against the birth certificate"))
            resolve_exception(s, app.id, supervisor, approve=approve, reason=reason)


def _record_cases(rt: Runtime, cases: list[Case]) -> None:
    with rt.db.session() as s:
        apps = {a.number: a for a in s.scalars(select(Application))}
        for case in cases:
            app = apps[case.number]
            case.state = str(app.state)
            case.reasons = [r["code"] for r in app.outcome_reasons or []]


def _reset(settings: Settings) -> None:
    out_dir = private_dir(settings.data_dir)
    # A new database starts a new audit chain: the old run's checkpoints belong to the old one.
    for stale in [*out_dir.glob("demo.db*"), *out_dir.glob("registry.db*"),
                  settings.effective_checkpoint_file]:
        stale.unlink(missing_ok=True)
    private_dir(out_dir / "receipts")


def write_accounts(path: Path, users: dict[str, tuple[User, str]]) -> None:
    """The demo's accounts and passwords, readable only by whoever ran the demo (0600)."""
    lines = ["# issuance demo accounts: user name, role, password", *(
        f"{name}\t{user.role}\t{password}" for name, (user, password) in users.items())]
    write_private(path, ("\n".join(lines) + "\n").encode())


def run_demo(base: Settings, out_dir: Path, count: int = 6) -> Summary:
    """Start from empty demo databases and carry the sample through the pipeline."""
    out_dir = out_dir.resolve()
    normal = max(count, 1)
    # With more applicants than distinct sample faces, the demo runs without face matching.
    settings = demo_settings(base, out_dir, faces_fit(normal))
    _reset(settings)
    citizens = population.generate(400, seed=DEMO_SEED)
    cases = sample_cases(citizens, normal)
    references = give_faces(cases, demo_faces())
    app = create_app(settings)
    rt: Runtime = app.state.runtime
    try:
        rt.registry.store.seed(citizens)  # type: ignore[attr-defined]
        if faces_fit(normal):
            rt.registry.store.seed_photos(references)  # type: ignore[attr-defined]
        users = _setup(rt)
        write_accounts(out_dir / ACCOUNTS_FILE, users)
        ensure_pki(out_dir, settings, rt.db)  # OUT/pki/csca.pem and the rest, reused on later runs
        # The app works its embedded queue from a thread while the clerk enrolls, as `serve` does.
        with TestClient(app) as client:
            clerk = CounterClerk(client, "clerk", users["clerk"][1], out_dir / "receipts")
            files = [str(clerk.enroll(case)) for case in cases]
        drain(rt, open_queue(settings), [VALIDATE])  # whatever arrived after the thread's last pass
        _record_cases(rt, cases)
        _decide_exceptions(rt, users["supervisor"][0])
        with rt.db.transaction() as s:
            batch = create_batch(s, settings.site, Actor("supervisor", settings.site))
            batch_number = batch.number if batch else None
        personalize_batched(rt, settings, out_dir)
        # Personalization leaves the batch's cards locked; the print step prints every one of them.
        printing = print_demo_cards(rt, out_dir, batch_number) if batch_number else DemoPrint()
        summary = _summary(rt, out_dir, cases, files)
        summary.printed, summary.print_files = printing.printed, printing.files
        return summary
    finally:
        rt.close()


def _summary(rt: Runtime, out_dir: Path, cases: list[Case], files: list[str]) -> Summary:
    with rt.db.session() as s:
        rows = s.execute(select(Application.state, func.count()).group_by(Application.state))
        by_state = Counter({str(state): n for state, n in rows})
        cards = Counter({str(state): n for state, n in s.execute(
            select(Card.state, func.count()).group_by(Card.state))})
    return Summary(
        applications=sum(by_state.values()), by_state=dict(sorted(by_state.items())),
        cards=dict(sorted(cards.items())), out_dir=str(out_dir), files=files,
        cases=[{"label": c.label, "number": c.number, "validation": c.state, "reasons": c.reasons}
               for c in cases],
    )
