"""`issuance cards ...`: named users, one-line refusals, and the daily expiry (command and reconciler)."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from issuance.cli.main import main
from issuance.config import Settings
from issuance.models import Card
from issuance.runtime import Runtime
from tests.factories import TEST_PASSWORD
from tests.lifecycle.conftest import People, active_cards, audit_actions, card_state, eligible, printed_cards
from workers.queues import open_queue
from workers.reconciler import reconcile


def _cli(settings: Settings, *args: str) -> tuple[int, str]:
    env = {"ISSUANCE_DATABASE_URL": settings.database_url, "ISSUANCE_DATA_DIR": str(settings.data_dir),
           "ISSUANCE_PASSWORD": TEST_PASSWORD, "ISSUANCE_AS": ""}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def _doc(rt: Runtime, card_id: int) -> str:
    with rt.db.session() as s:
        return str(s.get_one(Card, card_id).document_number)


def test_commands_act_as_a_named_supervisor(vsettings: Settings, vruntime: Runtime, people: People) -> None:
    card, = printed_cards(vruntime, people.clerk, eligible(1))
    doc = _doc(vruntime, card)
    for args in (("find",), ("show", doc), ("activate", doc), ("dispatch", doc, "--office", "HQ"),
                 ("suspend", doc, "--reason", "x"), ("revoke", doc, "--cause", "lost"), ("due",)):
        code, out = _cli(vsettings, "cards", *args)
        assert code == 2 and "--as NAME" in out, (args, out)
        code, out = _cli(vsettings, "cards", *args, "--as", "clerk1")
        assert code == 2 and "may not manage card lifecycle" in out, (args, out)
    code, out = _cli(vsettings, "cards", "find", doc, "--as", "sup1")
    assert code == 0 and doc in out and "next: dispatch" in out
    code, out = _cli(vsettings, "cards", "find", "--as", "north1")
    assert code == 0 and doc not in out
    code, out = _cli(vsettings, "cards", "dispatch", doc, "--office", "MARS", "--as", "sup1")
    assert code == 2 and "office: MARS is not a registered site code [site]" in out
    code, out = _cli(vsettings, "cards", "activate", doc, "--as", "sup1")
    assert code == 2 and "only an issued card is activated [state]" in out
    code, out = _cli(vsettings, "cards", "show", "NOT-A-DOC", "--as", "sup1")
    assert code == 2 and "document_number: 1-20 capital letters and digits" in out
    code, out = _cli(vsettings, "cards", "show", doc, "--as", "north1")
    assert code == 2 and "does not exist" in out
    code, out = _cli(vsettings, "cards", "dispatch", doc, "--office", "hq", "--as", "sup1")
    assert (code, out.strip()) == (0, "1 cards dispatched to HQ")
    code, out = _cli(vsettings, "cards", "hand-over", "--receipt", "HQ-000000001-0", "--document-kind",
                     "passport", "--document-number", "P1", "--signature", __file__, "--as", "sup1")
    assert code == 2 and "[check_digit]" in out


def test_expiry_command_and_the_reconciler_run_it(vsettings: Settings, vruntime: Runtime,
                                                  people: People) -> None:
    yesterday = dt.date.today() - dt.timedelta(days=1)
    due, later = active_cards(vruntime, people, 2, expires_on=yesterday)
    with vruntime.db.transaction() as s:
        s.execute(update(Card).where(Card.id == later).values(expires_on=dt.date.today()))
    code, out = _cli(vsettings, "cards", "expire", "--today", "not-a-date")
    assert code == 2
    code, out = _cli(vsettings, "cards", "expire")
    assert (code, out.strip()) == (0, "1 cards expired")
    assert card_state(vruntime, due)[0] == "expired" and card_state(vruntime, later)[0] == "active"
    assert audit_actions(vruntime, due)[-1] == "card.expired"
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    code, out = _cli(vsettings, "cards", "expire", "--today", tomorrow)
    assert (code, out.strip()) == (0, "1 cards expired")
    with vruntime.db.transaction() as s:
        s.execute(update(Card).where(Card.id == later).values(state="active"))
    assert reconcile(vruntime, open_queue(vruntime.settings)).cards_expired == []  # its last day is today
    with vruntime.db.transaction() as s:
        s.execute(update(Card).where(Card.id == later).values(expires_on=yesterday))
    assert reconcile(vruntime, open_queue(vruntime.settings)).cards_expired == [later]


@pytest.mark.parametrize("days", ["-1", "x", "99999"])
def test_due_refuses_junk_windows(vsettings: Settings, people: People, days: str) -> None:
    code, out = _cli(vsettings, "cards", "due", "--within-days", days, "--as", "sup1")
    assert code == 2
