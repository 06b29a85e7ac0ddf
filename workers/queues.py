"""Queues named for their stage, the Redis connection (real or fakeredis), and enqueueing ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import fakeredis
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from issuance.config import Settings

VALIDATE = "validate"
PENDING_KEY = "issuance:pending:{queue}"
JOB_TIMEOUT = 600

_fake_server: fakeredis.FakeServer | None = None


def personalize_queue(station: str) -> str:
    return f"personalize.{station}"


def print_queue(printer: str) -> str:
    return f"print.{printer}"


def connect(settings: Settings) -> Redis:
    """The configured Redis, or one in-process fakeredis server shared by the whole process."""
    global _fake_server
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    if _fake_server is None:
        _fake_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_fake_server)


def queue(name: str, connection: Redis) -> Queue:
    """An rq queue with the JSON serializer: jobs carry ids, never pickled objects."""
    return Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=JOB_TIMEOUT)


def chunks(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def enqueue_ids(
    connection: Redis, queue_name: str, func: str, ids: Sequence[int], chunk_size: int
) -> list[str]:
    """Enqueue `func(ids)` jobs of up to `chunk_size` ids and note which job carries each id."""
    q = queue(queue_name, connection)
    job_ids = []
    pending = PENDING_KEY.format(queue=queue_name)
    for chunk in chunks(sorted(set(ids)), chunk_size):
        job = q.enqueue_call(func, args=(chunk,), result_ttl=3600, failure_ttl=7 * 86400)
        connection.hset(pending, mapping={str(i): job.id for i in chunk})
        job_ids.append(job.id)
    return job_ids


def done(connection: Redis, queue_name: str, ids: Iterable[int]) -> None:
    """Forget the pending marks of ids whose job has finished with them."""
    keys = [str(i) for i in ids]
    if keys:
        connection.hdel(PENDING_KEY.format(queue=queue_name), *keys)


def pending(connection: Redis, queue_name: str) -> dict[int, str]:
    """Application id -> job id for every id a job was enqueued for and has not finished."""
    raw = connection.hgetall(PENDING_KEY.format(queue=queue_name))
    return {int(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in raw.items()}
