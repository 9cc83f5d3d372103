"""FastAPI dependencies shared by every domain router: a database session and the caller's role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from alueturva.auth.gate import MISSING_KEY, UNKNOWN_KEY, lookup
from alueturva.auth.models import Role
from alueturva.auth.service import Principal
from alueturva.db import get_database

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(auto_error=False, description="An API key made with `alueturva apikey create`")


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on any error."""
    with get_database().session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, as the gate found it before the body was read (``alueturva.auth.gate``); looked up here only for
    a route outside the gate's prefix."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        key = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
        if not key:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=MISSING_KEY, headers=_CHALLENGE)
        principal = lookup(key)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=UNKNOWN_KEY, headers=_CHALLENGE)
    request.state.actor = principal.actor
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(role: Role) -> Any:
    """A dependency that lets through callers whose role grants ``role`` (see ``auth.roles.GRANTS``)."""

    def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.may(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"the role '{principal.role}' may not do this; it needs '{role.value}'",
            )
        return principal

    return Depends(_check)


def principal_with(role: Role) -> Any:
    """Annotated type for a route parameter: the checked principal, for audit records."""
    return Annotated[Principal, require(role)]


Admin = principal_with(Role.admin)
Operator = principal_with(Role.operator)
Reporter = principal_with(Role.reporter)
Viewer = principal_with(Role.viewer)
