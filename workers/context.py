"""The runtime and queue of the current worker process, opened on first use (after rq's fork)."""

from __future__ import annotations

import os

from issuance.runtime import Runtime
from workers.queues import JobQueue, open_queue

_runtime: Runtime | None = None
_pid: int | None = None


def use(runtime: Runtime) -> None:
    """Install a runtime (the embedded queue and tests run jobs in-process with their own)."""
    global _runtime, _pid
    _runtime, _pid = runtime, os.getpid()


def runtime() -> Runtime:
    """This process's runtime; a forked child never reuses its parent's engines."""
    global _runtime, _pid
    if _runtime is None or _pid != os.getpid():
        _runtime, _pid = Runtime(check_schema=False), os.getpid()
    return _runtime


def jobs() -> JobQueue:
    """The queue this process's jobs report back to."""
    return open_queue(runtime().settings)
