"""The core routes of the web app: sign-in, who am I, audit verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from issuance import audit, auth
from issuance.models import User
from issuance.roles import Permission
from issuance.users import authenticate
from issuance.web.deps import WebRuntime, current_user, db_session, require, runtime


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


router = APIRouter(prefix="/api")


@router.post("/session", response_model=SessionOut)
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


@router.get("/me", response_model=Me)
def me(user: Annotated[User, Depends(current_user)]) -> Me:
    """Who is signed in."""
    return Me(username=user.username, role=user.role, site=user.site)


@router.get("/audit/verify")
def audit_verify(
    _: Annotated[User, Depends(require(Permission.VERIFY_AUDIT))],
    session: Annotated[Session, Depends(db_session)],
) -> dict[str, object]:
    """Walk the audit chain."""
    verdict = audit.verify(session)
    return {"ok": verdict.ok, "checked": verdict.checked, "bad_seq": verdict.bad_seq,
            "reason": verdict.reason}


