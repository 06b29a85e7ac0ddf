"""What every router of the web app shares: the runtime, a session per request, the signed-in user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from issuance import auth, user_sessions
from issuance.db import begin_writing
from issuance.models import User
from issuance.pipeline import Pipeline
from issuance.roles import Permission, authorize
from issuance.runtime import Runtime

_bearer = HTTPBearer(auto_error=False)


class WebRuntime(Runtime):
    """The process runtime plus what only the web app needs."""

    @cached_property
    def token_secret(self) -> bytes:
        return auth.load_secret(self.settings.effective_key_dir)


def runtime(request: Request) -> WebRuntime:
    rt: WebRuntime = request.app.state.runtime
    return rt


def pipeline(request: Request) -> Pipeline:
    """Where submitted applications are announced (the queue the app factory wired in)."""
    wired: Pipeline = request.app.state.pipeline
    return wired


def db_session(rt: Annotated[WebRuntime, Depends(runtime)]) -> Iterator[Session]:
    """A session per request for reads; handlers write inside `committing(session)`."""
    with rt.db.session() as session:
        yield session


@contextmanager
def committing(session: Session) -> Iterator[None]:
    """Commit the request's work on success, roll it back on any error (one transaction)."""
    begin_writing(session)
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str
    token: str


def signed_in(
    rt: Annotated[WebRuntime, Depends(runtime)],
    session: Annotated[Session, Depends(db_session)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> SignedIn:
    """The signed-in user and their server-side session, from the bearer token."""
    if creds is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    try:
        user, session_id = user_sessions.resolve(session, rt.token_secret, creds.credentials)
    except auth.TokenError as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    return SignedIn(user, session_id, creds.credentials)


def current_user(who: Annotated[SignedIn, Depends(signed_in)]) -> User:
    """The signed-in user."""
    return who.user


def require(permission: Permission) -> Callable[..., User]:
    """A dependency that admits only users whose role grants `permission`."""

    def guard(user: Annotated[User, Depends(current_user)]) -> User:
        return authorize(user, permission)

    guard.permission = permission  # type: ignore[attr-defined]  # read by the role-matrix test
    return guard


