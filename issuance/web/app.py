"""The web app factory: the composition root that mounts every stage's router and wires the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from enrollment.api import router as enrollment
from issuance.config import Settings, load_settings
from issuance.web import (
    account,
    errors,
    lifecycle,
    metrics,
    operators,
    pages,
    queues_dashboard,
    security,
    supervisor,
)
from issuance.web.deps import WebRuntime
from workers.pipeline import QueuePipeline
from workers.queues import VALIDATE, EmbeddedQueue, open_queue
from workers.worker import QueueThread


def stage_routers() -> list[APIRouter]:
    """The core router and every stage's, then the pages'."""
    return [account.router, enrollment, supervisor.router, lifecycle.router, operators.router,
            *pages.routers()]


def create_app(settings: Settings | None = None, routers: list[APIRouter] | None = None) -> FastAPI:
    """The application, with every router mounted and submitted work wired to the queue.

    On embedded defaults (no Redis) the serving process works its own queue from a thread,
    started with the app and stopped with it.
    """
    rt = WebRuntime(settings or load_settings())
    jobs = open_queue(rt.settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        thread = QueueThread(rt, jobs, [VALIDATE]) if isinstance(jobs, EmbeddedQueue) else None
        if thread:
            thread.start()
        try:
            yield
        finally:
            if thread:
                thread.stop()

    app = FastAPI(title="Civil-ID card issuance", version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    security.install(app)
    app.state.runtime = rt
    app.state.pipeline = QueuePipeline(rt, jobs)
    for router in routers if routers is not None else stage_routers():
        # Every route documents the errors it can answer with, all in the one body shape.
        app.include_router(router, responses=errors.ERROR_RESPONSES)
    errors.install(app)
    pages.install(app)
    metrics.install(app, rt, jobs)
    queues_dashboard.install(app, rt, jobs)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
