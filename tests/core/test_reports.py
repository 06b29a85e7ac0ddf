"""Reports' figures: the daily report equals the database's own counts, within the local day and the site."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from issuance.cli.main import main
from issuance.config import ConfigError, Settings
from issuance.db import Database
from issuance.models import Application, Role, User
from issuance.reports import (
    MEASURES,
    ClerkDay,
    PrinterDay,
    ReportNotFound,
    ReportRefused,
    SpoilReason,
    StationDay,
    batch_report,
    daily_report,
    day_bounds,
    zone,
)
from tests.factories import TEST_PASSWORD, make_user
from tests.report_activity import (
    CLERK_NAME_AR,
    DAY,
    EXPECTED_TOTALS,
    FORMULA_NAME,
    TZ,
    Day,
    day_of_activity,  # noqa: F401  (fixture)
    naive_totals,
)


def _user(db: Database, name: str) -> User:
    with db.session() as s:
        user = s.scalars(select(User).where(User.username == name)).one()
        s.expunge(user)
        return user


def test_daily_figures_equal_the_database_counts(db: Database, day: Day) -> None:
    with db.session() as s:
        report = daily_report(s, _user(db, "boss"), "HQ", DAY, TZ)
    assert report.totals == EXPECTED_TOTALS
    assert report.totals == naive_totals(db, "HQ", DAY, TZ, MEASURES)
    assert report.stations == (StationDay("S1", 1, 2), StationDay("S2", 1, 0))
    assert report.printers == (PrinterDay("P1", 1, 1),)
    assert report.spoiled == (SpoilReason("select", "", 1), SpoilReason("write_dg2", "6A82", 1))
    assert report.clerks == (ClerkDay("clerk1", CLERK_NAME_AR, 3, 2, 1, 1),
                             ClerkDay("clerk2", FORMULA_NAME, 2, 2, 1, 0))
    assert (report.starts_at, report.ends_at) == (dt.datetime(2026, 3, 9, 21, tzinfo=dt.UTC),
                                                  dt.datetime(2026, 3, 10, 21, tzinfo=dt.UTC))


def test_neighbouring_days_and_the_other_site_hold_the_rest(db: Database, day: Day) -> None:
    with db.session() as s:
        before = daily_report(s, _user(db, "boss"), "HQ", DAY - dt.timedelta(days=1), TZ)
        after = daily_report(s, _user(db, "boss"), "HQ", DAY + dt.timedelta(days=1), TZ)
        north = daily_report(s, _user(db, "north"), "NORTH", DAY, TZ)
        utc = daily_report(s, _user(db, "boss"), "HQ", DAY, ZoneInfo("UTC"))
    assert (before.totals["enrolled"], before.totals["approved"]) == (2, 1)
    assert after.totals["enrolled"] == 1 and sum(after.totals.values()) == 1
    assert north.totals["enrolled"] == 2 and north.totals["approved"] == 1 and north.totals["batched"] == 0
    assert [s.station for s in north.stations] == ["SN"] and [p.printer for p in north.printers] == ["PN"]
    # In UTC, the five submissions of 00:10 local fall on the 9th and the one of midnight on the 10th.
    assert utc.totals == naive_totals(db, "HQ", DAY, ZoneInfo("UTC"), MEASURES)
    assert (utc.totals["enrolled"], utc.totals["approved"]) == (1, 4)


def test_a_supervisor_gets_only_their_own_site(db: Database, day: Day) -> None:
    with db.session() as s:
        with pytest.raises(ReportRefused, match="site HQ only"):
            daily_report(s, _user(db, "boss"), "NORTH", DAY, TZ)
        with pytest.raises(ReportNotFound, match="batch"):
            batch_report(s, _user(db, "north"), day.batch)
        with pytest.raises(ReportNotFound, match="site: NOWHERE"):
            daily_report(s, _user(db, "root"), "NOWHERE", DAY, TZ)
        assert daily_report(s, _user(db, "root"), "NORTH", DAY, TZ).totals["enrolled"] == 2


def test_batch_report_lists_each_application_with_its_cards(db: Database, day: Day) -> None:
    with db.session() as s:
        report = batch_report(s, _user(db, "boss"), day.batch)
        names = {a.id: a.applicant.person.full_name_ar for a in s.scalars(select(Application))}
    a0, a1, a2, _, _, a5, a6 = day.hq
    assert [line.application_number.split("-")[1] for line in report.lines] == [
        f"{i:09d}" for i in (a0, a1, a2, a5, a6)]
    by_id = dict(zip((a0, a1, a2, a5, a6), report.lines, strict=True))
    assert (by_id[a0].state, by_id[a0].document_number, by_id[a0].station) == ("delivered", "D00000010", "S2")
    assert (by_id[a0].spoiled_attempts, by_id[a0].print_attempts) == (1, 1)
    assert (by_id[a1].state, by_id[a1].document_number, by_id[a1].print_attempts) == (
        "printing", "D00000011", 2)
    assert (by_id[a2].state, by_id[a2].document_number, by_id[a2].station, by_id[a2].spoiled_attempts) == (
        "batched", "", "S1", 1)
    assert by_id[a5].arabic_name == names[a5] and by_id[a6].station == "-"
    assert report.counts == {"batched": 3, "delivered": 1, "printing": 1}
    assert (report.printer, report.stations, report.status) == ("P1", ("S1", "S2"), "open")


def test_day_bounds_follow_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = day_bounds(dt.date(2026, 3, 29), berlin)  # clocks go forward: a 23-hour day
    assert end - start == dt.timedelta(hours=23)
    start, end = day_bounds(dt.date(2026, 10, 25), berlin)
    assert end - start == dt.timedelta(hours=25)


def test_an_unknown_time_zone_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="timezone: unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
    assert zone("Asia/Amman").key == "Asia/Amman"


def _cli(settings: Settings, tmp_path: Path, *args: str, who: str = "boss") -> Result:
    env = {"ISSUANCE_DATABASE_URL": settings.database_url, "ISSUANCE_DATA_DIR": str(settings.data_dir),
           "ISSUANCE_TIMEZONE": "Asia/Amman", "ISSUANCE_PASSWORD": TEST_PASSWORD}
    return CliRunner().invoke(main, ["report", *args, "--as", who], env=env)


def test_the_cli_writes_both_reports(db: Database, day: Day, settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "daily.csv"
    done = _cli(settings, tmp_path, "daily", "--site", "HQ", "--date", DAY.isoformat(), "--format", "csv",
                "--out", str(out))
    assert done.exit_code == 0, done.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {m: int(v) for section, _, m, v in rows[1:] if section == "totals"} == EXPECTED_TOTALS
    pdf = tmp_path / "batch.pdf"
    done = _cli(settings, tmp_path, "batch", day.batch, "--out", str(pdf))
    assert done.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF"), done.output


@pytest.mark.parametrize(("args", "who", "said"), [
    (("daily", "--site", "HQ"), "clerk1", "may not manage batches"),
    (("daily", "--site", "NORTH"), "boss", "site HQ only"),
    (("daily", "--site", "HQ", "--date", "2026-02-30"), "boss", "'2026-02-30' does not match the format"),
    (("daily", "--format", "xlsx"), "boss", "'xlsx' is not one of 'pdf', 'csv'"),
    (("batch", "HQ-B999999"), "boss", "batch: HQ-B999999 does not exist"),
])
def test_the_cli_refuses_with_a_usage_error(db: Database, settings: Settings, tmp_path: Path,
                                            args: tuple[str, ...], who: str, said: str) -> None:
    for name, role, site in (("boss", Role.SUPERVISOR, "HQ"), ("clerk1", Role.CLERK, "HQ"),
                             ("north", Role.SUPERVISOR, "NORTH")):
        make_user(db, name, role, site=site)
    done = _cli(settings, tmp_path, *args, who=who)
    assert done.exit_code == 2 and said in done.output, done.output
