"""The queue port: rq on a real Redis, or rq on fakeredis worked by the serving process (DESIGN §2).

Queues are named for their stage; jobs carry ids only, serialized as JSON. A hash per queue
notes which job carries each id, so the reconciler can tell a lost id from one still waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import ClassVar

import fakeredis
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from issuance.config import Settings

VALIDATE = "validate"
PENDING_KEY = "issuance:pending:{queue}"
JOB_TIMEOUT = 600


def personalize_queue(station: str) -> str:
    return f"personalize.{station}"


def print_queue(printer: str) -> str:
    return f"print.{printer}"


def chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class JobQueue:
    """Where jobs wait for a worker; the two implementations differ in who works them."""

    # True when the serving process itself must work the queue (no separate workers).
    embedded: ClassVar[bool]

    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def wake(self) -> None:
        """Tell whoever works the queue that jobs arrived (separate workers block on Redis)."""

    def queue(self, name: str) -> Queue:
        """An rq queue with the JSON serializer: jobs carry ids, never pickled objects."""
        return Queue(name, connection=self.connection, serializer=JSONSerializer,
                     default_timeout=JOB_TIMEOUT)

    def enqueue_ids(self, queue_name: str, func: str, ids: Sequence[int], chunk_size: int) -> list[str]:
        """Enqueue `func(ids)` jobs of up to `chunk_size` ids and note which job carries each id."""
        q = self.queue(queue_name)
        job_ids = []
        pending = PENDING_KEY.format(queue=queue_name)
        for chunk in chunks(sorted(set(ids)), chunk_size):
            job = q.enqueue_call(func, args=(chunk,), result_ttl=3600, failure_ttl=7 * 86400)
            self.connection.hset(pending, mapping={str(i): job.id for i in chunk})
            job_ids.append(job.id)
        if job_ids:
            self.wake()
        return job_ids

    def done(self, queue_name: str, ids: Iterable[int]) -> None:
        """Forget the pending marks of ids whose job has finished with them."""
        keys = [str(i) for i in ids]
        if keys:
            self.connection.hdel(PENDING_KEY.format(queue=queue_name), *keys)

    def pending(self, queue_name: str) -> dict[int, str]:
        """Application id -> job id for every id a job was enqueued for and has not finished."""
        raw = self.connection.hgetall(PENDING_KEY.format(queue=queue_name))
        return {int(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in raw.items()}


class RedisQueue(JobQueue):
    """rq on a real Redis: any number of `issuance worker` processes on any host work it."""

    embedded = False

    @classmethod
    def from_url(cls, url: str) -> RedisQueue:
        return cls(Redis.from_url(url))


class EmbeddedQueue(JobQueue):
    """rq on an in-process fakeredis: the one serving process works it (`issuance serve`, demo)."""

    embedded = True

    def __init__(self) -> None:
        super().__init__(fakeredis.FakeRedis(server=fakeredis.FakeServer()))
        self.arrived = threading.Event()

    def wake(self) -> None:
        self.arrived.set()


_embedded: EmbeddedQueue | None = None
_embedded_lock = threading.Lock()


def open_queue(settings: Settings) -> JobQueue:
    """The configured Redis, or this process's one embedded queue (jobs and server share it)."""
    global _embedded
    if settings.redis_url:
        return RedisQueue.from_url(settings.redis_url)
    with _embedded_lock:
        if _embedded is None:
            _embedded = EmbeddedQueue()
        return _embedded
