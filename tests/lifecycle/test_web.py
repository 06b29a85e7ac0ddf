"""The card pages and the card API: roles, site scope, the whole life through forms, junk input."""

from __future__ import annotations

import base64
import re

import pytest
from fastapi.testclient import TestClient

from enrollment.photo.samples import ASTRONAUT, GRACE_HOPPER, sample_portrait
from issuance.runtime import Runtime
from tests.factories import bearer
from tests.lifecycle.conftest import (
    People,
    active_cards,
    application_number,
    card_state,
    dispatched,
    eligible,
    printed_cards,
    signature_png,
)
from tests.web.pages import sign_in

CSRF = "csrf_token"


def _post(client: TestClient, url: str, csrf: str, **fields: object) -> tuple[int, str]:
    r = client.post(url, data={CSRF: csrf, **fields}, follow_redirects=False)  # type: ignore[arg-type]
    return r.status_code, r.headers.get("location", "") or r.text


def _hand_over_form(client: TestClient, csrf: str, receipt: str, signature: bytes | None = None,
                    live: bytes | None = None, **fields: str) -> tuple[int, str]:
    files = {"signature": ("signature.png", signature, "image/png")} if signature else {}
    if live:
        files["live_photo"] = ("live.jpg", live, "image/jpeg")
    data = {CSRF: csrf, "receipt": receipt, "document_kind": "family_book", "document_number": "FB-77/12",
            **fields}
    r = client.post("/cards/handover", data=data, files=files or {"x": ("", b"", "text/plain")},
                    follow_redirects=False)
    return r.status_code, r.headers.get("location", "") or r.text


@pytest.mark.parametrize("who", ["clerk1", "op1", "admin1"])
def test_only_supervisors_open_the_card_pages(client: TestClient, people: People, who: str) -> None:
    csrf = sign_in(client, who)
    assert client.get("/cards").status_code == 403
    assert _post(client, "/cards/1/activate", csrf)[0] == 403
    assert "/cards" not in client.get("/").text


def test_the_whole_life_through_the_pages(client: TestClient, vruntime: Runtime, people: People) -> None:
    first, second = printed_cards(vruntime, people.clerk, eligible(2))
    csrf = sign_in(client, "sup1")
    listing = client.get("/cards")
    assert listing.status_code == 200 and 'href="/cards"' in listing.text  # in the navigation
    assert f'name="card" value="{first}"' in listing.text
    assert _post(client, "/cards/dispatch", csrf, card=[first, second], office="hq") == (303, "/cards?done=2")
    assert card_state(vruntime, first) == ("printed", "dispatched")
    page = client.get(f"/cards/{first}")
    receipt = application_number(vruntime, first)
    assert f"/cards/handover?receipt={receipt}" in page.text
    assert client.get(f"/cards/handover?receipt={receipt}").status_code == 200

    assert _hand_over_form(client, csrf, receipt)[0] == 422  # no signature
    status, where = _hand_over_form(client, csrf, receipt, signature_png())
    assert (status, where) == (303, f"/cards/{first}?done=handed_over")
    assert card_state(vruntime, first) == ("issued", "delivered")
    assert _post(client, f"/cards/{first}/activate", csrf)[0] == 303
    assert _post(client, f"/cards/{first}/suspend", csrf, reason="holder abroad")[0] == 303
    status, text = _post(client, f"/cards/{first}/resume", csrf, reason="back")
    assert status == 409 and "cannot also" in text  # four eyes
    csrf2 = sign_in(client, "sup2")
    assert _post(client, f"/cards/{first}/resume", csrf2, reason="back home") == (
        303, f"/cards/{first}?done=resume")
    assert _post(client, f"/cards/{first}/revoke", csrf2, cause="lost", note="at the market")[0] == 303
    page = client.get(f"/cards/{first}?done=revoke")
    assert "card.revoked" in page.text and "lost: at the market" in page.text
    assert card_state(vruntime, first)[0] == "revoked"


def test_pages_in_arabic_and_their_refusals(client: TestClient, vruntime: Runtime, people: People) -> None:
    card, = active_cards(vruntime, people, 1)
    csrf = sign_in(client, "sup1")
    _post(client, "/language", csrf, language="ar", next="/cards")
    page = client.get(f"/cards/{card}")
    assert 'dir="rtl"' in page.text and "مفعلة" in page.text and "إلغاء نهائي" in page.text
    status, text = _post(client, f"/cards/{card}/activate", csrf)
    assert status == 409 and "حالة البطاقة لا تسمح" in text
    status, text = _post(client, f"/cards/{card}/revoke", csrf, cause="melted")
    assert status == 422 and "ليست من القيم المسموحة" in text
    status, text = _post(client, f"/cards/{card}/suspend", csrf, reason="")
    assert status == 422 and "حقل مطلوب" in text


def test_site_scope_of_the_pages(client: TestClient, vruntime: Runtime, people: People) -> None:
    card, = printed_cards(vruntime, people.clerk, eligible(1))
    csrf = sign_in(client, "north1")
    assert f"/cards/{card}" not in client.get("/cards").text
    assert client.get(f"/cards/{card}").status_code == 404
    assert _post(client, "/cards/dispatch", csrf, card=card, office="NORTH")[0] == 404
    dispatched(vruntime, [card], people.sup, "NORTH")  # now it waits at NORTH: they see it
    assert f"/cards/{card}" in client.get("/cards").text
    assert client.get(f"/cards/{card}").status_code == 200


JUNK_IDS = ["0", "-1", "2147483648", "99999999999999999999", "1e3", "abc", "%00"]


def test_junk_never_gives_a_server_error(client: TestClient, vruntime: Runtime, people: People) -> None:
    card, = printed_cards(vruntime, people.clerk, eligible(1))
    csrf = sign_in(client, "sup1")
    for junk in JUNK_IDS:
        assert client.get(f"/cards/{junk}").status_code in (404, 422), junk
        assert _post(client, f"/cards/{junk}/activate", csrf)[0] in (404, 422), junk
    assert _post(client, f"/cards/{card}/explode", csrf)[0] == 404
    for fields in ({"card": "x", "office": "HQ"}, {"card": str(2**40), "office": "HQ"},
                   {"card": str(card), "office": "\x00"}, {"batch": "B" * 500, "office": "HQ"},
                   {"card": str(card), "office": "Ω" * 1000}, {"batch": "\x00", "office": "HQ"}):
        assert _post(client, "/cards/dispatch", csrf, **fields)[0] in (404, 422), fields
    for receipt in ("", "\x00", "HQ-1-1", "Z" * 5000, "ق"):
        assert _hand_over_form(client, csrf, receipt, signature_png())[0] == 422, receipt
    dispatched(vruntime, [card], people.sup)
    receipt = application_number(vruntime, card)
    for bad in (b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, b"GIF89a" + b"\x00" * 100):
        assert _hand_over_form(client, csrf, receipt, bad)[0] == 422
    assert _hand_over_form(client, csrf, receipt, signature_png(), document_kind="<script>")[0] == 422
    assert _hand_over_form(client, csrf, receipt, signature_png(), live=b"\xff\xd8junk")[0] == 422
    for q in ("%", "\x00", "' OR 1=1", "ق" * 300):
        assert client.get("/cards", params={"q": q}).status_code == 200
    assert card_state(vruntime, card) == ("printed", "dispatched")


def test_api_hand_over_compares_the_live_face_with_the_chip_photo(client: TestClient, vruntime: Runtime,
                                                                  people: People) -> None:
    chip = sample_portrait(0, person=ASTRONAUT)
    card, other = printed_cards(vruntime, people.clerk, eligible(2), chip_photo=chip)
    dispatched(vruntime, [card, other], people.sup)
    auth = bearer(client, "sup1")

    def send(card_id: int, live: bytes | None) -> tuple[int, dict[str, object]]:
        body = {"receipt": application_number(vruntime, card_id), "document_kind": "passport",
                "document_number": "P1", "signature_png": base64.b64encode(signature_png()).decode(),
                "live_photo": base64.b64encode(live).decode() if live else None}
        r = client.post("/api/cards/handover", json=body, headers=auth)
        return r.status_code, r.json()

    status, body = send(card, sample_portrait(0, person=GRACE_HOPPER))
    assert status == 422 and body["errors"][0]["rule"] == "face_mismatch"  # type: ignore[index]
    assert re.search(r"distance 0\.\d\d", str(body["message"]))
    status, body = send(card, sample_portrait(3, person=ASTRONAUT))
    assert status == 200 and body["state"] == "issued", body
    status, body = send(other, b"\xff\xd8 not a photo")
    assert status == 422 and body["errors"][0]["field"] == "live_photo"  # type: ignore[index]


def test_api_moves_scope_and_errors(client: TestClient, vruntime: Runtime, people: People) -> None:
    card, = active_cards(vruntime, people, 1)
    sup, north, clerk = (bearer(client, n) for n in ("sup1", "north1", "clerk1"))
    assert client.get("/api/cards", headers=clerk).status_code == 403
    assert [c["id"] for c in client.get("/api/cards", headers=sup).json()] == [card]
    assert client.get("/api/cards", headers=north).json() == []
    assert client.get(f"/api/cards/{card}", headers=north).status_code == 404
    shown = client.get(f"/api/cards/{card}", headers=sup).json()
    assert shown["next"] == ["suspend", "revoke"] and "card.active" in [e["action"] for e in shown["history"]]
    r = client.post(f"/api/cards/{card}/activate", headers=sup)
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "state"
    r = client.post(f"/api/cards/{card}/suspend", json={"reason": "check"}, headers=sup)
    assert r.status_code == 200 and r.json()["state"] == "suspended"
    r = client.post(f"/api/cards/{card}/resume", json={"reason": "ok"}, headers=sup)
    assert r.status_code == 409 and r.json()["errors"][0]["rule"] == "four_eyes"
    r = client.post(f"/api/cards/{card}/revoke", json={"cause": "stolen"}, headers=sup)
    assert r.status_code == 200 and r.json()["status_reason"] == "stolen"
    r = client.post("/api/cards/dispatch", json={"office": "HQ", "cards": [card]}, headers=sup)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "cards"
    r = client.post("/api/cards/dispatch", json={"office": "HQ", "batch": "NOPE"}, headers=sup)
    assert r.status_code == 404
