"""Fuzzing `issuance print`: card numbers, reasons, user names and scans give a clear error, never a crash,
and nothing half-written (the audit chain stays whole, a card has one open reprint request at most)."""

from __future__ import annotations

import io
import random
import string
from pathlib import Path

from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from issuance import audit
from issuance.cli.main import main
from issuance.db import Database
from issuance.models import Card, ReprintRequest, ReprintState, Role, User
from issuance.runtime import Runtime
from tests.factories import TEST_PASSWORD, make_user
from tests.printing.print_cards import add_folder_printer, make_card
from workers import print_stage

ALPHABET = string.printable + "é中\u202eا\x00\x7f"


def _scans(back: bytes, rng: random.Random, folder: Path) -> list[Path]:
    """Bit flips, truncations and junk of a real scan, and a header claiming a huge image."""
    out = []
    for n in range(8):
        data = bytearray(back)
        if n % 3 == 0:
            for _ in range(20):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif n % 3 == 1:
            del data[rng.randrange(8, len(data)):]
        else:
            data = bytearray(rng.randbytes(rng.randrange(0, 400)))
        out.append(bytes(data))
    blank = io.BytesIO()
    Image.new("L", (1011, 638), 255).save(blank, "PNG")  # readable, but no card on it: a failed check
    out.append(blank.getvalue())
    huge = bytearray(back)
    huge[16:24] = (60000).to_bytes(4, "big") * 2  # the PNG IHDR width and height
    out.append(bytes(huge))
    paths = []
    for n, data in enumerate(out):
        path = folder / f"scan-{n}.png"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_print_cli_input_fuzz(db: Database, prt: Runtime, clerk: User, tmp_path: Path) -> None:
    add_folder_printer(db, tmp_path / "cards")
    card_id = make_card(db, prt, clerk, seed=51)
    assert print_stage.print_one(prt, print_stage.print_tools(prt), card_id).step == "printed"
    make_user(db, "boss", Role.SUPERVISOR)
    with db.session() as s:
        card = s.get_one(Card, card_id)
        number, application = str(card.document_number), str(card.application.number)
    env = {"ISSUANCE_DATABASE_URL": prt.settings.database_url,
           "ISSUANCE_DATA_DIR": str(prt.settings.data_dir), "ISSUANCE_PASSWORD": TEST_PASSWORD}
    rng = random.Random(14)

    def word() -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40)))

    back = (tmp_path / "cards" / application / "back.png").read_bytes()
    cases = [["print", "status", number]]
    cases += [["print", "qc", number, "--scan", str(p)] for p in _scans(back, rng, tmp_path)]
    for _ in range(12):
        cases += [["print", "reprint", "--reason", word(), "--by", "boss", "--", word()],
                  ["print", "reprint", number, "--reason", word() + "x" * rng.choice([0, 600]),
                   "--by", "boss"],
                  ["print", "reprint", number, "--reason", "bent", "--by", word()],
                  ["print", "approve", "--by", "boss", "--", word()],
                  ["print", "status", "--", word()],
                  ["print", "qc", "--scan", str(tmp_path / "scan-0.png"), "--by", word(), "--", number]]
    seen = set()
    for args in cases:
        result = CliRunner().invoke(main, args, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.output)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        seen.add(result.exit_code)
    assert seen == {0, 1, 2}
    with db.session() as s:
        assert audit.verify(s).ok
        open_requests = s.scalar(select(func.count()).select_from(ReprintRequest).where(
            ReprintRequest.card_id == card_id, ReprintRequest.state != ReprintState.USED))
        assert open_requests == 1
