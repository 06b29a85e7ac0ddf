"""Spoolers: the folder printer, and a real cupsd with a cups-pdf printer on loopback."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from printing.render import RenderedCard
from printing.spool.base import JobState, PrintJob, SpoolError, follow
from printing.spool.cups import CupsSpooler
from printing.spool.folder import FolderSpooler
from printing.spool.printers import spooler_for
from tests.printing.cups_server import CupsServer


def test_folder_printer_writes_each_job_whole(card: RenderedCard, tmp_path: Path) -> None:
    spooler = spooler_for(f"folder:{tmp_path / 'spool'}")
    assert isinstance(spooler, FolderSpooler)
    job_id = spooler.submit(PrintJob("UT0000001", card.pdf, {"front.png": b"png"}))
    assert spooler.status(job_id).state == JobState.COMPLETED
    folder = tmp_path / "spool" / "UT0000001"
    assert (folder / "card.pdf").read_bytes() == card.pdf
    assert (folder / "front.png").stat().st_mode & 0o777 == 0o600
    assert not list((tmp_path / "spool").glob(".*"))
    with pytest.raises(SpoolError, match="already spooled"):
        spooler.submit(PrintJob("UT0000001", card.pdf))
    with pytest.raises(SpoolError, match="plain name"):
        spooler.submit(PrintJob("UT0000002", card.pdf, {"../escape": b""}))
    assert not (tmp_path / "spool" / "UT0000002").exists()
    assert spooler.status("nothing").state == JobState.FAILED


@pytest.mark.parametrize("name", ["", "../x", "a b", "x" * 101, "-flag"])
def test_job_names_are_checked(name: str) -> None:
    with pytest.raises(SpoolError, match="job name"):
        PrintJob(name, b"%PDF")


@pytest.mark.parametrize("printer", ["lpt:1", "cups:", "folder:", "cups:bad queue", ""])
def test_printer_registrations_are_checked(printer: str) -> None:
    with pytest.raises(SpoolError):
        spooler_for(printer)


def test_cups_prints_the_card_pdf(cups: CupsServer, card: RenderedCard) -> None:
    queue = cups.add_pdf_printer("card-printer")
    spooler = CupsSpooler(queue, cups.server)
    job_id = spooler.submit(PrintJob("UT0000001", card.pdf))
    status = follow(spooler, job_id, timeout=60)
    assert status.state == JobState.COMPLETED, status
    written = cups.pdf_of_job(job_id)
    assert written is not None, f"cups-pdf wrote nothing in {cups.output}"
    assert len(PdfReader(io.BytesIO(written.read_bytes())).pages) == 2


def test_stopped_printer_keeps_the_job_waiting_until_enabled(cups: CupsServer, card: RenderedCard) -> None:
    queue = cups.add_pdf_printer("stopped-printer")
    spooler = CupsSpooler(queue, cups.server)
    cups.disable(queue)
    job_id = spooler.submit(PrintJob("UT0000002", card.pdf))
    assert follow(spooler, job_id, timeout=2).state == JobState.WAITING
    assert cups.pdf_of_job(job_id) is None
    cups.enable(queue)
    assert follow(spooler, job_id, timeout=60).state == JobState.COMPLETED
    assert cups.pdf_of_job(job_id) is not None


def test_cancelled_job_is_failed_and_bad_queue_refused(cups: CupsServer, card: RenderedCard) -> None:
    queue = cups.add_pdf_printer("cancel-printer")
    spooler = CupsSpooler(queue, cups.server)
    cups.disable(queue)
    job_id = spooler.submit(PrintJob("UT0000003", card.pdf))
    subprocess.run(["cancel", "-h", cups.server, f"{queue}-{job_id}"], check=True)
    assert follow(spooler, job_id, timeout=10).state == JobState.FAILED
    with pytest.raises(SpoolError, match="lp refused"):
        CupsSpooler("no-such-queue", cups.server).submit(PrintJob("UT0000004", card.pdf))
    with pytest.raises(SpoolError, match="cannot read job"):
        spooler.status("99999")


def test_unreachable_cups_server_is_a_spool_error(card: RenderedCard) -> None:
    spooler = CupsSpooler("card-printer", "127.0.0.1:9")
    with pytest.raises(SpoolError, match="lp refused"):
        spooler.submit(PrintJob("UT0000005", card.pdf))
    with pytest.raises(SpoolError, match="cannot read job"):
        spooler.status("1")
