"""Forms of the pages: CSRF, one source of field errors with the API, sessions, accounts, drafts."""

from __future__ import annotations

import datetime as dt
import html
import io
import random
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

import enrollment.messages
from enrollment.field_labels import FORM_FIELDS, LABELS
from enrollment.mrz_name import propose_mrz_name
from enrollment.photo.checks import assess_photo
from enrollment.photo.samples import sample_portrait
from enrollment.rules import NationalNumberRule
from issuance.config import Settings
from issuance.db import Database
from issuance.models import Application, Role, User, WebSession
from issuance.person import PERSON_FIELDS
from issuance.web.app import create_app
from issuance.web.pages.deps import SESSION_COOKIE
from issuance.web.pages.i18n import CHECKS
from issuance.web.security import HEADERS
from tests.factories import TEST_PASSWORD, make_applications, make_user
from tests.web.pages import csrf_of, sign_in

FORM = {
    "first_name_ar": "محمد", "father_name_ar": "أحمد", "grandfather_name_ar": "علي",
    "family_name_ar": "الرازي",
    "national_number": NationalNumberRule().complete("000000042"), "birth_date": "1980-03-12", "sex": "M",
    "nationality": "UTO", "issuing_state": "UTO", "birth_place": "Utopia City", "address": "1 Main St",
    "kind": "first_issue",
}


def _count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Application)) or 0)


def test_forms_without_their_csrf_token_are_refused_and_change_nothing(
    db: Database, client: TestClient
) -> None:
    clerk = make_user(db, "amal", Role.CLERK)
    draft = make_applications(db, clerk)[0]
    csrf = sign_in(client, "amal")
    for token in ("", "forged-" + csrf[:10]):
        r = client.post("/counter/new", data={**FORM, "csrf_token": token})
        assert r.status_code == 403 and "CSRF" in r.text
        r = client.post(f"/counter/applications/{draft}/cancel", data={"csrf_token": token})
        assert r.status_code == 403
        r = client.put(f"/counter/applications/{draft}/signature", content=b"x",
                       headers={"x-csrf-token": token})
        assert r.status_code == 403
    assert _count(db) == 1
    # With the token the same forms work.
    r = client.post("/counter/new", data={**FORM, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/photo")
    assert _count(db) == 2


def test_sign_in_form_needs_its_own_token(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    client.get("/sign-in")
    r = client.post("/sign-in", data={"username": "amal", "password": TEST_PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_session_cookie_flags_headers_and_sign_out(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    page = client.get("/sign-in")
    for name, value in HEADERS.items():
        assert page.headers[name] == value
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert "strict-transport-security" not in page.headers  # plain HTTP: no HSTS
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/sign-in", data={"username": "amal", "password": TEST_PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain HTTP here
    csrf = csrf_of(client)
    stolen = client.cookies[SESSION_COOKIE]
    assert client.post("/sign-out", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, stolen)  # the old cookie no longer opens anything
    assert client.get("/counter/new", follow_redirects=False).headers["location"] == "/sign-in"


def test_secure_cookie_over_tls(db: Database, settings: Settings) -> None:
    make_user(db, "amal", Role.CLERK)
    app = create_app(settings)
    with TestClient(app, base_url="https://counter.test") as c:
        page = c.get("/sign-in")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post("/sign-in", data={"username": "amal", "password": TEST_PASSWORD, "csrf_token": token},
                   follow_redirects=False)
        assert "secure" in r.headers["set-cookie"].lower()
        assert r.headers["strict-transport-security"] == "max-age=31536000"
    app.state.runtime.close()


def test_idle_session_expires(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    sign_in(client, "amal")
    with db.transaction() as s:
        for row in s.scalars(select(WebSession)):
            row.last_seen = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    assert client.get("/counter/new", follow_redirects=False).headers["location"] == "/sign-in"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0
    # A session nobody came back to is removed at the next sign-in of anyone.
    sign_in(client, "amal")
    with db.transaction() as s:
        s.scalars(select(WebSession)).one().last_seen = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    make_user(db, "basma", Role.CLERK)
    sign_in(client, "basma")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 1


def test_a_screens_polling_does_not_keep_an_idle_session_alive(db: Database, client: TestClient) -> None:
    make_user(db, "sara", Role.SUPERVISOR)
    sign_in(client, "sara")
    page = client.get("/supervisor/dashboard").text
    assert """hx-headers='{"X-Poll": "1"}'""" in page  # the figures fragment polls as a poll

    def age(minutes: int) -> dt.datetime:
        then = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
        with db.transaction() as s:
            s.scalars(select(WebSession)).one().last_seen = then
        return then

    def last_seen() -> dt.datetime:
        with db.session() as s:
            seen = s.scalars(select(WebSession)).one().last_seen
        return seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)

    then = age(10)
    assert client.get("/supervisor/dashboard/figures", headers={"X-Poll": "1"}).status_code == 200
    assert abs(last_seen() - then) < dt.timedelta(seconds=1)
    assert client.get("/supervisor/dashboard/figures").status_code == 200
    assert last_seen() - then > dt.timedelta(minutes=9)
    age(16)
    r = client.get("/supervisor/dashboard/figures", headers={"X-Poll": "1"}, follow_redirects=False)
    assert r.status_code in (303, 401) or "/sign-in" in r.headers.get("location", "")


def test_api_documentation_is_served_locally_under_the_same_policy(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "script-src 'self'" in docs.headers["content-security-policy"]
    assert "https://" not in docs.text  # no CDN: a registry office network has no internet
    assert client.get("/sign-in").headers["x-frame-options"] == "DENY"


def test_temporary_password_must_be_changed_first(db: Database, client: TestClient) -> None:
    make_user(db, "root", Role.ADMIN)
    csrf = sign_in(client, "root")
    r = client.post("/admin/users", data={"csrf_token": csrf, "username": "nadia", "role": "clerk",
                                          "site": "HQ", "temporary_password": "temporary-123"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.post("/admin/users", data={"csrf_token": csrf, "username": "x", "role": "clerk",
                                             "temporary_password": "short"})
    assert page.status_code == 422 and "username" in page.text
    client.cookies.clear()
    page = client.get("/sign-in")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/sign-in", data={"username": "nadia", "password": "temporary-123", "csrf_token": token},
                    follow_redirects=False)
    assert r.headers["location"] == "/password"
    assert client.get("/counter/new", follow_redirects=False).headers["location"] == "/password"
    csrf = csrf_of(client, "/password")
    r = client.post("/password", data={"csrf_token": csrf, "current_password": "temporary-123",
                                       "new_password": "my own secret 1",
                                       "repeat_password": "my own secret 1"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/counter/new").status_code == 200
    with db.session() as s:
        nadia = s.scalars(select(User).where(User.username == "nadia")).one()
        assert nadia.must_change_password is False


def test_language_is_remembered_per_user(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    csrf = sign_in(client, "amal")
    assert 'lang="ar" dir="rtl"' in client.get("/").text  # the default
    client.post("/language", data={"csrf_token": csrf, "language": "en", "next": "https://evil.test/"})
    sign_in(client, "amal")  # a new session, a new cookie jar: still English
    page = client.get("/counter/new")
    assert 'lang="en" dir="ltr"' in page.text and "Family name (Arabic)" in page.text


def _page_error(client: TestClient, csrf: str, field: str, value: str) -> str:
    r = client.post("/counter/check", data={field: value}, headers={"x-csrf-token": csrf,
                                                                     "HX-Trigger-Name": field})
    assert r.status_code == 200
    return r.text.split(f'id="err-{field}" hx-swap-oob="true">')[1].split("</span>")[0]


def _api_error(client: TestClient, token: str, field: str, value: str) -> tuple[str, str]:
    r = client.post("/api/enrollment/applications", json={**FORM, field: value},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422
    error = next(e for e in r.json()["errors"] if e["field"] == field)
    return error["en"], error["ar"]


@pytest.fixture
def twelve_digit_client(settings: Settings) -> Iterator[TestClient]:
    extra = {"national_number_length": 12, "national_number_check": "none"}
    app = create_app(replace(settings, extra=extra))
    with TestClient(app) as c:
        yield c
    app.state.runtime.close()


def test_page_and_api_field_errors_come_from_the_same_rules(
    db: Database, twelve_digit_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = twelve_digit_client
    make_user(db, "amal", Role.CLERK)
    token = client.post("/api/session", json={"username": "amal", "password": TEST_PASSWORD}).json()["token"]
    csrf = sign_in(client, "amal")
    ten = "1234567890"
    en, ar = _api_error(client, token, "national_number", ten)
    assert "12 digits" in en
    assert _page_error(client, csrf, "national_number", ten) == ar  # Arabic screens by default
    # Change the rule's message: page and API change together.
    monkeypatch.setitem(enrollment.messages.MESSAGES, "digits", ("needs {length} figures", "{length} خانة"))
    assert _api_error(client, token, "national_number", ten) == ("needs 12 figures", "12 خانة")
    assert _page_error(client, csrf, "national_number", ten) == "12 خانة"
    # A valid 12-digit number is fine on the page.
    assert _page_error(client, csrf, "national_number", "123456789012") == ""


def test_live_check_proposes_the_mrz_name(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    csrf = sign_in(client, "amal")
    r = client.post("/counter/check", data={k: FORM[k] for k in FORM if k.endswith("_ar")},
                    headers={"x-csrf-token": csrf})
    proposal = html.unescape(r.text.split('id="mrz-proposal" dir="ltr" hx-swap-oob="true">')[1].split("<")[0])
    expected = propose_mrz_name("الرازي", ["محمد", "أحمد", "علي"]).field.rstrip("<")
    assert proposal == expected and proposal.count("<<") == 1


def test_my_applications_search_and_cancel(db: Database, client: TestClient) -> None:
    clerk = make_user(db, "amal", Role.CLERK)
    other = make_user(db, "basma", Role.CLERK)
    mine = make_applications(db, clerk, count=3, seed=5)
    theirs = make_applications(db, other, count=1, seed=6)
    csrf = sign_in(client, "amal")
    with db.session() as s:
        first = s.get_one(Application, mine[0])
        number, surname = str(first.number), first.applicant.surname_latin
        their_number = str(s.get_one(Application, theirs[0]).number)
    page = client.get("/counter/applications").text
    assert number in page and their_number not in page
    found = client.get("/counter/applications", params={"q": number}).text
    assert number in found and found.count("<tr>") == 2  # the header and the one match
    assert number in client.get("/counter/applications", params={"q": surname.lower()}).text
    r = client.post(f"/counter/applications/{theirs[0]}/cancel", data={"csrf_token": csrf})
    assert r.status_code == 404  # another clerk's draft is not found, let alone cancelled
    r = client.post(f"/counter/applications/{mine[0]}/cancel", data={"csrf_token": csrf})
    assert r.status_code == 200 and number in r.text
    assert _count(db) == 3


_NASTY = ["", " ", "\x00", "\u202e", "<script>alert(1)</script>", "' OR 1=1 --", "٠١٢٣", "A" * 5000,
          "محمد" * 40, "1980-02-30", "\ud7ff", "%00", "{{7*7}}", "\r\n", "ﷺ", "🙂"]


def test_fuzzed_form_posts_give_field_errors_never_a_crash(db: Database, client: TestClient) -> None:
    """Random values in every field of the live check and of the create form: 200/303/422 only."""
    rng = random.Random(15)
    make_user(db, "amal", Role.CLERK)
    csrf = sign_in(client, "amal")
    before = _count(db)
    created = 0
    for _ in range(60):
        data = {name: rng.choice([*_NASTY, FORM.get(name, "")]) for name in FORM_FIELDS if rng.random() < 0.8}
        check = client.post("/counter/check", data=data, headers={"x-csrf-token": csrf})
        assert check.status_code == 200
        assert "<script>" not in check.text  # every echoed value is escaped
        made = client.post("/counter/new", data={**data, "csrf_token": csrf}, follow_redirects=False)
        assert made.status_code in (303, 413, 422), made.text[:300]
        created += made.status_code == 303
        if made.status_code == 422:
            assert "<script>alert" not in made.text
    assert _count(db) == before + created


def test_every_form_field_has_a_label_in_both_languages() -> None:
    for name in (*FORM_FIELDS, *PERSON_FIELDS):
        assert name in LABELS, name
        en, ar = LABELS[name]
        assert en and ar and en != ar


def test_arabic_indic_digits_when_configured(db: Database, settings: Settings) -> None:
    clerk = make_user(db, "amal", Role.CLERK)
    make_applications(db, clerk)
    app = create_app(replace(settings, extra={"digits": "arabic-indic"}))
    with TestClient(app) as c:
        sign_in(c, "amal")
        year = str(dt.date.today().year)
        page = c.get("/counter/applications").text
        assert year.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) in page
    app.state.runtime.close()


def test_wrong_password_on_the_page_opens_no_session(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    client.get("/sign-in?lang=en")
    page = client.get("/sign-in")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/sign-in", data={"username": "amal", "password": "not the password",
                                      "csrf_token": token})
    assert r.status_code == 401 and "User name or password is wrong" in r.text
    assert SESSION_COOKIE not in client.cookies
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0


def test_a_renewal_without_the_old_card_is_refused_beside_the_field(db: Database, client: TestClient) -> None:
    make_user(db, "amal", Role.CLERK)
    csrf = sign_in(client, "amal")
    r = client.post("/counter/new", data={**FORM, "kind": "renewal", "csrf_token": csrf})
    assert r.status_code == 422
    error = r.text.split('id="err-replaces_card">')[1].split("</span>")[0]
    assert error == enrollment.messages.message("old_card_needed")[1]
    r = client.post("/counter/new", data={**FORM, "kind": "renewal", "replaces_card": "AB1234567",
                                          "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with db.session() as s:
        app = s.scalars(select(Application)).one()
        assert (str(app.kind), app.replaces_document_number) == ("renewal", "AB1234567")


def test_every_photo_check_has_an_arabic_name() -> None:
    portrait = Image.open(io.BytesIO(sample_portrait(0)))
    names = {check.name for check in assess_photo(portrait).checks}
    assert names <= set(CHECKS) and len(names) > 10


def test_review_names_codes_in_words(db: Database, client: TestClient) -> None:
    clerk = make_user(db, "amal", Role.CLERK)
    draft = make_applications(db, clerk)[0]
    csrf = sign_in(client, "amal")
    client.post("/language", data={"csrf_token": csrf, "language": "en"})
    page = client.get(f"/counter/applications/{draft}/review").text
    assert "First card" in page and ("Male" in page or "Female" in page)


def test_the_header_writes_role_and_site_with_each_languages_comma(db: Database, client: TestClient) -> None:
    make_user(db, "sara", Role.SUPERVISOR)
    csrf = sign_in(client, "sara")
    assert 'مشرف، <span dir="ltr">HQ</span>' in client.get("/").text  # Arabic is the default
    client.post("/language", data={"csrf_token": csrf, "language": "en", "next": "/"})
    assert 'supervisor, <span dir="ltr">HQ</span>' in client.get("/").text
