"""The core routes of the web app: sign-in, renewal and sign-out, who am I, audit verification."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from issuance import audit, signin, user_sessions
from issuance.models import User
from issuance.roles import Permission
from issuance.web.deps import (
    SignedIn,
    WebRuntime,
    committing,
    current_user,
    db_session,
    require,
    runtime,
    signed_in,
)
from issuance.web.inputs import Line


class SignIn(BaseModel):
    username: Line = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    token: str
    username: str
    role: str
    expires_in: int


class Renewed(BaseModel):
    token: str
    expires_in: int


class Me(BaseModel):
    username: str
    role: str
    site: str


class Unlock(BaseModel):
    scope: Literal["account", "address"]
    subject: Line = Field(min_length=1, max_length=128)


class Unlocked(BaseModel):
    unlocked: bool


router = APIRouter(prefix="/api")


def client_address(request: Request) -> str:
    """The peer address sign-in throttling counts against."""
    return request.client.host if request.client else "unknown"


@router.post("/session", response_model=SessionOut)
def sign_in(
    body: SignIn,
    request: Request,
    rt: Annotated[WebRuntime, Depends(runtime)],
    session: Annotated[Session, Depends(db_session)],
) -> SessionOut:
    """Exchange a user name and password for a short-lived bearer token (renew it while working)."""
    with committing(session):
        outcome = signin.sign_in(session, body.username, body.password, client_address(request))
        issued = None if isinstance(outcome, signin.Refusal) else user_sessions.open_session(
            session, rt.token_secret, outcome)
    if isinstance(outcome, signin.Refusal):
        if outcome.reason == "wrong":
            raise HTTPException(401, outcome.message, headers={"WWW-Authenticate": "Bearer"})
        headers = {"Retry-After": str(outcome.retry_after)} if outcome.retry_after else None
        raise HTTPException(429, outcome.message, headers=headers)
    assert issued is not None
    return SessionOut(token=issued.token, username=outcome.username, role=outcome.role,
                      expires_in=issued.expires_in)


@router.post("/session/renew", response_model=Renewed)
def renew(
    who: Annotated[SignedIn, Depends(signed_in)],
    rt: Annotated[WebRuntime, Depends(runtime)],
    session: Annotated[Session, Depends(db_session)],
) -> Renewed:
    """A fresh token for the same session; the session ends one shift after sign-in."""
    issued = user_sessions.renew(session, rt.token_secret, who.token)
    return Renewed(token=issued.token, expires_in=issued.expires_in)


@router.delete("/session", status_code=204)
def sign_out(
    who: Annotated[SignedIn, Depends(signed_in)],
    session: Annotated[Session, Depends(db_session)],
) -> None:
    """Sign out: every token of this session stops working at once."""
    with committing(session):
        user_sessions.revoke(session, who.session_id)


@router.post("/sign-in-locks/unlock", response_model=Unlocked)
def unlock(
    body: Unlock,
    admin: Annotated[User, Depends(require(Permission.MANAGE_USERS))],
    session: Annotated[Session, Depends(db_session)],
) -> Unlocked:
    """Lift the sign-in lockout of an account name or a client address (administrators)."""
    with committing(session):
        done = signin.unlock(session, body.scope, body.subject, actor=admin.username)
    return Unlocked(unlocked=done)


@router.get("/me", response_model=Me)
def me(user: Annotated[User, Depends(current_user)]) -> Me:
    """Who is signed in."""
    return Me(username=user.username, role=user.role, site=user.site)


@router.get("/audit/verify")
def audit_verify(
    _: Annotated[User, Depends(require(Permission.VERIFY_AUDIT))],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, object]:
    """Walk the audit chain against its key and signed checkpoints."""
    verdict = audit.verify(session)
    return {"ok": verdict.ok, "checked": verdict.checked, "bad_seq": verdict.bad_seq,
            "reason": verdict.reason, "checkpoints": verdict.checkpoints}
