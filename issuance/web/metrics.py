"""Prometheus metrics at /metrics, computed from the database at each scrape (the database is the truth).

Nothing is counted in process memory as work happens, so any number of web processes answer the
same figures. Counts per state come from the applications and cards tables; queue depths from the
job queue; stage latencies and registry postponements from the audit log, which is append-only and
ordered by `seq`, so each process reads it once and then only the entries added since its last scrape.

A stage latency is the time from an application's first audit entry into the stage's start state
to its first entry into the end state (`ts` of `application.<state>` entries, written in the same
transaction as the state change): submitted -> approved (validation, with any exception review),
approved -> batched, batched -> personalized (with any new cards after spoiled ones),
personalized -> printed, printed -> delivered.

Access: a scraper sends `Authorization: Bearer <metrics_token>` (the setting; empty disables it);
otherwise a signed-in browser session whose role may view the dashboard (supervisor, admin).
Anyone else gets 401 (403 for a signed-in role without the permission).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hmac
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from issuance.dashboard import TS_FORMAT, reason_codes
from issuance.models import Application, AuditEvent, Card, PrintAttempt, Printer, Station
from issuance.roles import Permission, PermissionDenied, authorize
from issuance.states import ApplicationState
from issuance.web.deps import WebRuntime
from issuance.web.pages.deps import PasswordChangeRequired, SignInRequired, visit
from workers.queues import VALIDATE, JobQueue, personalize_queue, print_queue

A = ApplicationState
STAGES = (("validation", A.SUBMITTED, A.APPROVED), ("batching", A.APPROVED, A.BATCHED),
          ("personalization", A.BATCHED, A.PERSONALIZED), ("printing", A.PERSONALIZED, A.PRINTED),
          ("delivery", A.PRINTED, A.DELIVERED))
MILESTONES = sorted({str(s) for _, start, end in STAGES for s in (start, end)})
POSTPONED = "application.validation_postponed"
OUTAGE_REASON = "civil registry unavailable"  # workers/validation.py's reason for an outage
BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0, 86400.0,
           2 * 86400.0, 4 * 86400.0, 7 * 86400.0, 14 * 86400.0, 30 * 86400.0)
SCAN_BATCH = 5000


@dataclass
class Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        running, out = 0, list[tuple[str, float]]()
        for bound, n in zip([*map(str, BUCKETS), "+Inf"], self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out


@dataclass
class AuditScan:
    """What the audit log says so far: stage latencies and registry postponements, read incrementally."""

    seq: int = 0
    starts: dict[tuple[str, int], dt.datetime] = field(default_factory=dict)
    latencies: defaultdict[tuple[str, str], Histogram] = field(default_factory=lambda: defaultdict(Histogram))
    postponed: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def catch_up(self, session: Session) -> None:
        """Read the entries written since the last scrape."""
        with self.lock:
            stmt = (select(AuditEvent.seq, AuditEvent.ts, AuditEvent.action, AuditEvent.to_state,
                           AuditEvent.details, Application.id, Application.site)
                    .join(Application, AuditEvent.entity_id == cast(Application.id, String))
                    .where(AuditEvent.seq > self.seq, AuditEvent.entity_type == "application",
                           or_(AuditEvent.to_state.in_(MILESTONES), AuditEvent.action == POSTPONED))
                    .order_by(AuditEvent.seq))
            for row in session.execute(stmt).yield_per(SCAN_BATCH):
                seq, ts, action, to_state, details, app_id, site = row
                self._take(ts, action, to_state, details, app_id, site)
                self.seq = seq

    def _take(self, ts: str, action: str, to_state: str, details: str, app_id: int, site: str) -> None:
        at = dt.datetime.strptime(ts, TS_FORMAT)
        if action == POSTPONED:
            cause = "registry_unavailable" if OUTAGE_REASON in details else "record_failed"
            self.postponed[(site, cause)] += 1
            return
        for stage, start, end in STAGES:
            if to_state == start:
                self.starts.setdefault((stage, app_id), at)
            elif to_state == end and (stage, app_id) in self.starts:
                began = self.starts.pop((stage, app_id))
                self.latencies[(stage, site)].observe(max(0.0, (at - began).total_seconds()))


def _labelled(name: str, doc: str, labels: list[str], rows: Iterable[Sequence[Any]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for *values, n in rows:
        family.add_metric([str(v) for v in values], float(n))
    return family


class IssuanceCollector(Collector):
    """Every figure, read when Prometheus scrapes."""

    def __init__(self, rt: WebRuntime, jobs: JobQueue) -> None:
        self.rt, self.jobs, self.scan = rt, jobs, AuditScan()

    def collect(self) -> Iterator[Metric]:
        with self.rt.db.session() as s:
            yield from self._states(s)
            yield from self._failures(s)
            yield from self._queues(s)
            self.scan.catch_up(s)
        yield from self._latencies()

    def _states(self, s: Session) -> Iterator[Metric]:
        yield _labelled("issuance_applications", "Applications per site and state.", ["site", "state"],
                        s.execute(select(Application.site, Application.state, func.count())
                                  .group_by(Application.site, Application.state)))
        yield _labelled("issuance_cards", "Cards per site (the application's) and state.", ["site", "state"],
                        s.execute(select(Application.site, Card.state, func.count())
                                  .join(Application, Card.application_id == Application.id)
                                  .group_by(Application.site, Card.state)))
        yield _labelled("issuance_print_attempts", "Print attempts per printer and state.",
                        ["printer", "state"],
                        s.execute(select(PrintAttempt.printer, PrintAttempt.state, func.count())
                                  .group_by(PrintAttempt.printer, PrintAttempt.state)))

    def _failures(self, s: Session) -> Iterator[Metric]:
        spoiled = CounterMetricFamily("issuance_cards_spoiled", "Spoiled cards per site and failed step.",
                                      labels=["site", "step"])
        for site, step, n in s.execute(select(Application.site, Card.failure_step, func.count())
                                       .join(Application, Card.application_id == Application.id)
                                       .where(Card.state == "spoiled")
                                       .group_by(Application.site, Card.failure_step)):
            spoiled.add_metric([site, step or ""], float(n))
        yield spoiled
        held: Counter[str] = Counter()
        for site, reasons in s.execute(select(Application.site, Application.outcome_reasons)
                                       .where(Application.state == A.EXCEPTION)):
            held[site] += "REGISTRY_ERROR" in reason_codes(reasons)
        yield _labelled("issuance_registry_error_applications",
                        "Applications held in exception because the registry kept failing on them.",
                        ["site"], sorted(held.items()))

    def _queues(self, s: Session) -> Iterator[Metric]:
        stations = s.scalars(select(Station.code).order_by(Station.code))
        printers = s.scalars(select(Printer.code).order_by(Printer.code))
        names = [VALIDATE, *map(personalize_queue, stations), *map(print_queue, printers)]
        depth = GaugeMetricFamily("issuance_queue_jobs", "Jobs waiting on each queue.", labels=["queue"])
        failed = GaugeMetricFamily("issuance_queue_failed_jobs", "Failed jobs kept for each queue.",
                                   labels=["queue"])
        pending = GaugeMetricFamily("issuance_queue_pending_ids", "Ids enqueued and not yet finished.",
                                    labels=["queue"])
        for name in names:
            queue = self.jobs.queue(name)
            depth.add_metric([name], queue.count)
            failed.add_metric([name], queue.failed_job_registry.count)
            pending.add_metric([name], len(self.jobs.pending(name)))
        yield from (depth, failed, pending)

    def _latencies(self) -> Iterator[Metric]:
        with self.scan.lock:
            hist = HistogramMetricFamily("issuance_stage_latency_seconds",
                                         "Time from entering a stage's start state to its end state.",
                                         labels=["stage", "site"])
            for (stage, site), h in sorted(self.scan.latencies.items()):
                hist.add_metric([stage, site], h.cumulative(), h.total)
            postponed = CounterMetricFamily("issuance_validation_postponed",
                                            "Validations postponed by a registry failure (outage or record).",
                                            labels=["site", "cause"])
            for (site, cause), n in sorted(self.scan.postponed.items()):
                postponed.add_metric([site, cause], float(n))
        yield from (hist, postponed)


def _admitted(request: Request, rt: WebRuntime) -> int:
    """200 for the scraper's token or a signed-in viewer; else 401 (nobody) or 403 (a role without it)."""
    token, sent = rt.settings.metrics_token, request.headers.get("authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return 200
    with rt.db.session() as session:
        try:
            authorize(visit(request, session, rt).user, Permission.VIEW_DASHBOARD)
        except (SignInRequired, PasswordChangeRequired):
            return 401
        except PermissionDenied:
            return 403
    return 200


def install(app: FastAPI, rt: WebRuntime, jobs: JobQueue) -> None:
    """Serve /metrics from a registry holding only this collector (no process-global state)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IssuanceCollector(rt, jobs))

    def metrics(request: Request) -> Response:
        status = _admitted(request, rt)
        if status != 200:
            return Response("metrics: sign in as a supervisor or send the metrics bearer token\n",
                            status_code=status, media_type="text/plain",
                            headers={"WWW-Authenticate": "Bearer"} if status == 401 else {})
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
