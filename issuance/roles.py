"""Roles and what each may do (DESIGN §8); one guard checks them everywhere."""

from __future__ import annotations

from enum import StrEnum

from issuance.models import Role, User


class Permission(StrEnum):
    ENROLL = "enroll"
    VIEW_OWN_APPLICATIONS = "view_own_applications"
    OPERATE_STATION = "operate_station"
    PRINT = "print"
    RESOLVE_EXCEPTIONS = "resolve_exceptions"
    MANAGE_BATCHES = "manage_batches"
    MANAGE_CARD_LIFECYCLE = "manage_card_lifecycle"
    MANAGE_USERS = "manage_users"
    MANAGE_KEYS = "manage_keys"
    CONFIGURE = "configure"
    VERIFY_AUDIT = "verify_audit"
    VIEW_DASHBOARD = "view_dashboard"  # production figures, metrics and queue internals


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset({P.ENROLL, P.VIEW_OWN_APPLICATIONS}),
    Role.OPERATOR: frozenset({P.OPERATE_STATION, P.PRINT}),
    Role.SUPERVISOR: frozenset(
        {
            P.RESOLVE_EXCEPTIONS, P.MANAGE_BATCHES,
            P.MANAGE_CARD_LIFECYCLE, P.VERIFY_AUDIT, P.VIEW_DASHBOARD,
        }
    ),
    Role.ADMIN: frozenset({P.MANAGE_USERS, P.MANAGE_KEYS, P.CONFIGURE, P.VERIFY_AUDIT, P.VIEW_DASHBOARD}),
}


class PermissionDenied(PermissionError):
    """The user's role does not grant the permission asked for."""


def allows(role: Role, permission: Permission) -> bool:
    """True when the role grants the permission."""
    return permission in ROLE_PERMISSIONS[role]


def authorize(user: User, permission: Permission) -> User:
    """The one guard: return the user if active and allowed, else raise PermissionDenied."""
    if not user.active:
        raise PermissionDenied(f"user {user.username!r} is disabled")
    if not allows(user.role, permission):
        raise PermissionDenied(
            f"user {user.username!r} (role {user.role}) may not {permission.value.replace('_', ' ')}"
        )
    return user
