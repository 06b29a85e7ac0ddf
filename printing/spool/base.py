"""The spooler port: submit a card's files as a job, ask its state, follow it to an end."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class SpoolError(RuntimeError):
    """The spooler refused the job or cannot be reached; the message says which and why."""


class JobState(StrEnum):
    WAITING = "waiting"  # queued, held, or the printer is stopped: it will print later
    PRINTING = "printing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in {JobState.COMPLETED, JobState.FAILED}


@dataclass(frozen=True)
class PrintJob:
    """One card to print: a name safe as a file name and title, the PDF and extra files."""

    name: str
    pdf: bytes
    files: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _JOB_NAME.fullmatch(self.name):
            raise SpoolError(f"job name {self.name!r}: letters, digits, '.', '_' and '-' only (1-100)")


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    state: JobState
    reason: str = ""


class Spooler(Protocol):
    """A printer: `cups:QUEUE` or `folder:PATH`."""

    @property
    def printer(self) -> str: ...

    def submit(self, job: PrintJob) -> str: ...

    def status(self, job_id: str) -> JobStatus: ...


def follow(spooler: Spooler, job_id: str, timeout: float, interval: float = 0.25) -> JobStatus:
    """Poll a job until it completes or fails, or until the timeout (then it is still waiting)."""
    deadline = time.monotonic() + timeout
    while True:
        status = spooler.status(job_id)
        if status.state.final or time.monotonic() >= deadline:
            return status
        time.sleep(interval)
