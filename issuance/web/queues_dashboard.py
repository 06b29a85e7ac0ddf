"""rq-dashboard (the queues' internals) mounted at /rq for readers of the dashboard, read-only.

rq-dashboard is a Flask (WSGI) app: a2wsgi runs it inside this ASGI app, behind the pages' own
session and role guard (supervisors and admins; anyone else is sent to sign in or refused). It
reads the Redis the workers use; with the embedded queue (fakeredis inside this process, no Redis
URL) there is nothing it can connect to, so /rq says so instead.

Read-only: the database is the truth and the reconciler re-enqueues what a queue lost, so emptying
or requeueing by hand would only bypass the audit log; every method but GET and HEAD is refused
(and the dashboard's own delete buttons are disabled).

CSP: rq-dashboard's pages carry inline scripts and styles and compile underscore templates with
`new Function`, so its answers, and only those under /rq, allow 'unsafe-inline' and 'unsafe-eval'
(still 'self' only: nothing is loaded from elsewhere). Every other page keeps the strict policy.
"""

from __future__ import annotations

from typing import Any

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from rq.serializers import JSONSerializer
from rq_dashboard.cli import make_flask_app
from rq_dashboard.web import config as rq_dashboard_config
from rq_dashboard.web import setup_rq_connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from issuance.roles import Permission, PermissionDenied, authorize
from issuance.web.deps import WebRuntime
from issuance.web.pages.deps import (
    PasswordChangeRequired,
    SignInRequired,
    render,
    see_other,
    visit,
    words_for,
)
from workers.queues import JobQueue

MOUNT = "/rq"
READ_METHODS = frozenset({"GET", "HEAD"})
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def flask_app(redis_url: str) -> Any:
    """rq-dashboard's Flask app on the workers' Redis, reading the JSON jobs our queues hold."""
    app = make_flask_app(None, None, None, "")
    app.config.update(RQ_DASHBOARD_REDIS_URL=redis_url, RQ_DASHBOARD_DISABLE_DELETE=True)
    rq_dashboard_config.serializer = JSONSerializer  # rq-dashboard keeps this one setting module-wide
    setup_rq_connection(app)
    return app


class GuardedQueues:
    """An ASGI app: the guard, then rq-dashboard (or, on the embedded queue, a page saying why not)."""

    def __init__(self, rt: WebRuntime, jobs: JobQueue) -> None:
        self.rt = rt
        # a2wsgi's middleware is an ASGI app; its own annotations name a different scope type.
        self.inner: ASGIApp | None = (
            None if jobs.embedded else WSGIMiddleware(flask_app(rt.settings.redis_url)))  # type: ignore[assignment]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        # The guard reads the database: off the event loop, like any sync page.
        answer = await run_in_threadpool(self._answer, Request(scope, receive))
        if answer is not None:
            await answer(scope, receive, send)
        elif self.inner is not None:
            await self.inner(scope, receive, _with_csp(send))

    def _answer(self, request: Request) -> Response | None:
        """A refusal, or the embedded queue's page; None lets rq-dashboard answer."""
        if request.method not in READ_METHODS:
            return PlainTextResponse("the queues are read-only here", status_code=405,
                                     headers={"Allow": "GET, HEAD"})
        with self.rt.db.session() as session:
            try:
                v = visit(request, session, self.rt)
                authorize(v.user, Permission.VIEW_DASHBOARD)
            except SignInRequired:
                return see_other("/sign-in")
            except PasswordChangeRequired:
                return see_other("/password")
            except PermissionDenied as exc:
                words = words_for(request, self.rt)
                return render(request, "refused.html", words, status=403, reason=str(exc), key="forbidden")
            return render(request, "dashboard/queues.html", v.words, visit=v) if self.inner is None else None


def _with_csp(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            name = b"content-security-policy"
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != name]
            message = {**message, "headers": [*headers, (name, CSP.encode())]}
        await send(message)

    return sending


def install(app: FastAPI, rt: WebRuntime, jobs: JobQueue) -> None:
    """Mount the guarded rq-dashboard at /rq."""
    app.mount(MOUNT, GuardedQueues(rt, jobs), name="rq-dashboard")
