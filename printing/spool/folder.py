"""The embedded default printer: each job's files written into its own folder of a spool folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from printing.spool.base import JobState, JobStatus, PrintJob, SpoolError


class FolderSpooler:
    """`folder:PATH`: PATH/<job>/card.pdf plus the job's other files; a job is done once its card.pdf
    is in place (the folder itself may already hold other files of the card, such as its chip dump)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def printer(self) -> str:
        return f"folder:{self.path}"

    def submit(self, job: PrintJob) -> str:
        """Write into a hidden folder, then move the files into place, card.pdf last: a reader who
        finds card.pdf finds the whole job."""
        target = self.path / job.name
        if (target / "card.pdf").exists():
            raise SpoolError(f"{self.printer}: job {job.name} is already spooled")
        staging = self.path / f".{job.name}.partial"
        try:
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(mode=0o700)
            for name, data in {"card.pdf": job.pdf, **job.files}.items():
                if Path(name).name != name or name.startswith("."):
                    raise SpoolError(f"{self.printer}: file name {name!r} must be a plain name")
                descriptor = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
            target.mkdir(exist_ok=True, mode=0o700)
            for name in sorted(job.files, key=lambda n: n == "card.pdf"):
                os.replace(staging / name, target / name)
            os.replace(staging / "card.pdf", target / "card.pdf")
            staging.rmdir()
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise SpoolError(f"{self.printer}: cannot write job {job.name}: {exc.strerror}") from exc
        return job.name

    def status(self, job_id: str) -> JobStatus:
        if (self.path / job_id / "card.pdf").is_file():
            return JobStatus(job_id, JobState.COMPLETED)
        return JobStatus(job_id, JobState.FAILED, "no such job in the spool folder")
