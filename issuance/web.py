"""The web app shell (FastAPI): sign-in, the role guard as a dependency, error mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from issuance import audit, auth
from issuance.config import Settings, load_settings
from issuance.models import User
from issuance.roles import Permission, PermissionDenied, authorize
from issuance.runtime import Runtime
from issuance.transitions import IllegalTransition, NotFound
from issuance.users import authenticate

_bearer = HTTPBearer(auto_error=False)


class WebRuntime(Runtime):
    """The process runtime plus what only the web app needs."""

    @cached_property
    def token_secret(self) -> bytes:
        return auth.load_secret(self.settings.data_dir)


def runtime(request: Request) -> WebRuntime:
    rt: WebRuntime = request.app.state.runtime
    return rt


def db_session(rt: Annotated[WebRuntime, Depends(runtime)]) -> Iterator[Session]:
    """A session per request; handlers commit through `session.begin()` blocks."""
    with rt.db.session() as session:
        yield session


@contextmanager
def committing(session: Session) -> Iterator[None]:
    """Commit the request's work on success, roll it back on any error (one transaction)."""
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def current_user(
    rt: Annotated[WebRuntime, Depends(runtime)],
    session: Annotated[Session, Depends(db_session)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The signed-in user, from the bearer token."""
    if creds is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    try:
        user_id = auth.check(rt.token_secret, creds.credentials)
    except auth.TokenError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise HTTPException(401, "account disabled or removed")
    return user


def require(permission: Permission) -> Callable[..., User]:
    """A dependency that admits only users whose role grants `permission`."""

    def guard(user: Annotated[User, Depends(current_user)]) -> User:
        return authorize(user, permission)

    guard.permission = permission  # type: ignore[attr-defined]  # read by the role-matrix test
    return guard


class SignIn(BaseModel):
    username: str
    password: str


class SessionOut(BaseModel):
    token: str
    username: str
    role: str
    expires_in: int


class Me(BaseModel):
    username: str
    role: str
    site: str


core = APIRouter(prefix="/api")


@core.post("/session", response_model=SessionOut)
def sign_in(
    body: SignIn,
    rt: Annotated[WebRuntime, Depends(runtime)],
    session: Annotated[Session, Depends(db_session)],
) -> SessionOut:
    """Exchange a user name and password for a bearer token."""
    user = authenticate(session, body.username, body.password)
    if user is None:
        raise HTTPException(401, "user name or password is wrong")
    token = auth.issue(rt.token_secret, user.id)
    return SessionOut(token=token, username=user.username, role=user.role,
                      expires_in=auth.TOKEN_SECONDS)


@core.get("/me", response_model=Me)
def me(user: Annotated[User, Depends(current_user)]) -> Me:
    """Who is signed in."""
    return Me(username=user.username, role=user.role, site=user.site)


@core.get("/audit/verify")
def audit_verify(
    _: Annotated[User, Depends(require(Permission.VERIFY_AUDIT))],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, object]:
    """Walk the audit chain."""
    verdict = audit.verify(session)
    return {"ok": verdict.ok, "checked": verdict.checked, "bad_seq": verdict.bad_seq,
            "reason": verdict.reason}


def _error(status: int) -> Callable[[Request, Exception], JSONResponse]:
    def handler(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handler


def stage_routers() -> list[APIRouter]:
    """The core router and every stage's; imported here because the stages import the core."""
    from enrollment.api import router as enrollment
    from issuance.api_supervisor import router as supervisor

    return [core, enrollment, supervisor]


def create_app(settings: Settings | None = None, routers: list[APIRouter] | None = None) -> FastAPI:
    """The application, with the core router and every stage's router mounted."""
    app = FastAPI(title="Civil-ID card issuance", version="0.1.0")
    app.state.runtime = WebRuntime(settings or load_settings())
    for router in routers if routers is not None else stage_routers():
        app.include_router(router)
    app.add_exception_handler(PermissionDenied, _error(403))
    app.add_exception_handler(IllegalTransition, _error(409))
    app.add_exception_handler(NotFound, _error(404))

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
