"""The schema comes from migrations that match the models; the demo runs end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from issuance.db import Database
from issuance.models import Base
from personalization.lds import sod

REPO = Path(__file__).resolve().parents[2]


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_demo_json_summary(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUANCE_")}
    out = subprocess.run(
        [sys.executable, "-m", "issuance", "demo", "--json", "--out", str(tmp_path / "demo"),
         "--count", "4"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=True,
    )
    summary = json.loads(out.stdout)
    assert summary["applications"] == 10
    assert sum(summary["by_state"].values()) == 10
    assert Path(summary["out_dir"]) == (tmp_path / "demo").resolve()
    assert (tmp_path / "demo" / "pki" / "csca.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    outcomes = {c["label"]: (c["validation"], c["reasons"]) for c in summary["cases"]}
    assert outcomes["citizen"] == ("approved", [])
    assert outcomes["renewal"] == ("approved", [])
    assert outcomes["deceased"] == ("rejected", ["DECEASED"])
    assert outcomes["duplicate"] == ("rejected", ["DUPLICATE_IN_FLIGHT"])
    assert outcomes["name mismatch"] == ("rejected", ["NAME_MISMATCH"])
    assert outcomes["name nearly matches"] == ("exception", ["NAME_FUZZY"])
    # Another national number wearing the first citizen's face: held, then rejected by the supervisor.
    assert outcomes["face duplicate"] == ("exception", ["FACE_DUPLICATE"])
    # The supervisor approved the exception, and every approved application was batched,
    # personalized at the demo's station on a virtual card, printed and checked.
    assert summary["by_state"] == {"quality_checked": 6, "rejected": 4}
    assert summary["cards"] == {"printed": 6}
    for case in summary["cases"]:
        card = tmp_path / "demo" / "cards" / case["number"]
        # The supervisor rejects the face duplicate: no card for it.
        carded = case["validation"] != "rejected" and case["label"] != "face duplicate"
        assert (card / "card.json").exists() == carded
    chip = tmp_path / "demo" / "cards" / outcomes_number(summary, "renewal") / "chip"
    assert sorted(p.name for p in chip.iterdir()) == [
        "DG1.bin", "DG11.bin", "DG12.bin", "DG14.bin", "DG15.bin", "DG2.bin", "DG7.bin", "EF.COM.bin",
        "EF.SOD.bin"]
    signed = tmp_path / "sod.der"
    signed.write_bytes(sod.parse((chip / "EF.SOD.bin").read_bytes()).cms)
    csca = tmp_path / "demo" / "pki" / "csca.pem"
    verified = subprocess.run(["openssl", "cms", "-verify", "-inform", "DER", "-in", str(signed),
                               "-CAfile", str(csca), "-purpose", "any", "-binary", "-out", os.devnull],
                              capture_output=True)
    assert verified.returncode == 0, verified.stderr
    receipts = [Path(f) for f in summary["files"]]
    assert len(receipts) == 10 and all(p.read_bytes().startswith(b"%PDF") for p in receipts)
    # Printed: every card personalization locked, and the batch documents.
    assert summary["printed"] == 6 == len(list((tmp_path / "demo" / "cards").glob("*/card.pdf")))
    assert {Path(f).name for f in summary["print_files"]} == {"proof.pdf", "manifest.pdf", "manifest.csv"}
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in receipts)
    _sign_in_with_the_demo_accounts(tmp_path / "demo")


def _sign_in_with_the_demo_accounts(out_dir: Path) -> None:
    """A person can sign in to the demo afterwards with what accounts.txt (0600) says."""
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from issuance.config import Settings
    from issuance.web.app import create_app

    accounts = out_dir / "accounts.txt"
    assert accounts.stat().st_mode & 0o777 == 0o600
    rows = [line.split("\t") for line in accounts.read_text().splitlines() if not line.startswith("#")]
    assert {role for _, role, _ in rows} == {"clerk", "operator", "supervisor", "admin"}
    settings = replace(Settings(), data_dir=out_dir, database_url=f"sqlite:///{out_dir / 'demo.db'}")
    app = create_app(settings)
    with TestClient(app) as client:
        for name, role, password in rows:
            r = client.post("/api/session", json={"username": name, "password": password})
            assert r.status_code == 200 and r.json()["role"] == role, r.text
    app.state.runtime.close()


def test_db_upgrade_command_on_an_empty_database(database_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner
    from sqlalchemy import inspect

    from issuance.cli.main import main
    from issuance.migrate import head_revision

    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        Database(database_url).engine.dispose()
        with Database(database_url).engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"ISSUANCE_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert f"at revision {head_revision()}" in result.output
    engine = Database(database_url).engine
    assert {"applications", "cards", "audit_events", "audit_head"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def outcomes_number(summary: dict[str, Any], label: str) -> str:
    return str(next(c["number"] for c in summary["cases"] if c["label"] == label))
