"""The real printer: a CUPS queue, jobs submitted with `lp` and followed over IPP with `ipptool`."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from printing.spool.base import JobState, JobStatus, PrintJob, SpoolError

# IPP job-state keywords (RFC 8011 §5.3.7) as the spooler's states.
_STATES = {
    "pending": JobState.WAITING, "pending-held": JobState.WAITING, "processing-stopped": JobState.WAITING,
    "processing": JobState.PRINTING, "completed": JobState.COMPLETED,
    "canceled": JobState.FAILED, "aborted": JobState.FAILED,
}
_REQUEST_ID = re.compile(r"request id is (\S+)-(\d+) ")
_GET_JOB = """{
  NAME "Get job state"
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job_id
  ATTR name requesting-user-name $user
  ATTR keyword requested-attributes job-state,job-state-reasons
  STATUS successful-ok
  DISPLAY job-state
  DISPLAY job-state-reasons
}
"""
_TIMEOUT = 30


class CupsSpooler:
    """`cups:QUEUE` on a CUPS server (host:port, or the client's default server)."""

    def __init__(self, queue: str, server: str | None = None) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,127}", queue):
            raise SpoolError(f"cups queue {queue!r}: letters, digits, '_', '.' and '-' only")
        self.queue = queue
        self.server = server

    @property
    def printer(self) -> str:
        return f"cups:{self.queue}"

    def _server_args(self) -> list[str]:
        return ["-h", self.server] if self.server else []

    def _run(self, command: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        except FileNotFoundError as exc:
            raise SpoolError(f"{self.printer}: {command[0]} is missing (Debian cups-client, cups-ipp-utils)"
                             ) from exc
        except subprocess.TimeoutExpired as exc:
            raise SpoolError(f"{self.printer}: {command[0]} did not answer in {_TIMEOUT} s") from exc

    def submit(self, job: PrintJob) -> str:
        """`lp -d QUEUE -t NAME card.pdf`; returns CUPS's job number."""
        with tempfile.TemporaryDirectory(prefix="civid-print-") as folder:
            path = Path(folder) / f"{job.name}.pdf"
            path.write_bytes(job.pdf)
            done = self._run(["lp", *self._server_args(), "-d", self.queue, "-t", job.name, str(path)])
        match = _REQUEST_ID.search(done.stdout)
        if done.returncode != 0 or not match:
            reason = done.stderr.strip() or done.stdout.strip()
            raise SpoolError(f"{self.printer}: lp refused job {job.name}: {reason}")
        return match.group(2)

    def _uri(self) -> str:
        host = self.server or "localhost"
        return f"ipp://{host}/printers/{self.queue}"

    def status(self, job_id: str) -> JobStatus:
        """Get-Job-Attributes over IPP: job-state and its reasons."""
        if not job_id.isdigit():
            raise SpoolError(f"{self.printer}: job id {job_id!r} is not a CUPS job number")
        with tempfile.NamedTemporaryFile("w", suffix=".test", prefix="civid-ipp-") as test:
            test.write(_GET_JOB)
            test.flush()
            done = self._run(["ipptool", "-c", "-d", f"job_id={job_id}", self._uri(), test.name])
        rows = [line for line in done.stdout.splitlines() if line.strip()]
        if done.returncode != 0 or len(rows) < 2:
            detail = (done.stderr or done.stdout).strip().splitlines() or ["no answer"]
            raise SpoolError(f"{self.printer}: cannot read job {job_id}: {detail[-1]}")
        state, _, reasons = rows[1].partition(",")
        if state not in _STATES:
            raise SpoolError(f"{self.printer}: job {job_id} has an unknown state {state!r}")
        return JobStatus(job_id, _STATES[state], reasons.strip('"'))
