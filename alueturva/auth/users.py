"""Accounts of the people who sign in to the web console: argon2 password hashes, and every change audited with its
actor. Roles are the API's roles.

No account is ever locked: wrong passwords are throttled per client address and per email and address
(``alueturva.throttling``, in the console's sign-in route), so that nobody can lock someone else out. argon2 is slow
and memory-hungry on purpose; a sign-in checks its password in one of a few threads (``password_hashing_threads``),
so that a flood of sign-ins can never take the threads that acknowledgements and the API need."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alueturva.api_types import MAX_ID
from alueturva.audit import service as audit
from alueturva.auth.models import Role, User
from alueturva.auth.service import Principal
from alueturva.db import utcnow
from alueturva.digits import ascii_int
from alueturva.errors import Conflict, Invalid, NotFound
from alueturva.settings import get_settings

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

T = TypeVar("T")
_hashing_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def hashing_limiter() -> anyio.CapacityLimiter:
    """The running event loop's few threads for checking passwords (a limiter belongs to one loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _hashing_limiters:
        _hashing_limiters[loop] = anyio.CapacityLimiter(get_settings().password_hashing_threads)
    return _hashing_limiters[loop]


async def in_hashing_thread(work: Callable[[], T]) -> T:
    """Run ``work`` (which checks a password) in one of the hashing threads; while all are busy it waits in the
    event loop, holding no thread of the shared pool."""
    return await anyio.to_thread.run_sync(work, limiter=hashing_limiter())


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """Checked when the email names nobody, so that an unknown address takes as long as a wrong password."""
    return _hasher().hash("not a password of anyone")


def principal_for_user(user: User) -> Principal:
    return Principal(actor=f"web:user:{user.id}", role=user.role, name=user.name)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"the password must be at most {MAX_PASSWORD_LENGTH} characters")


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if "@" not in cleaned or len(cleaned) > 254 or any(ch.isspace() for ch in cleaned):
        raise Invalid(f"'{email}' is not an email address")
    return cleaned


def audit_user(session: Session, *, actor: str, action: str, user_id: int, details: dict[str, object]) -> None:
    """An audit event about an account (its changes, its sessions)."""
    audit.record(session, actor=actor, action=action, entity_type="user", entity_id=user_id, details=details)


def create_user(session: Session, *, email: str, name: str, role: Role, password: str, actor: Principal) -> User:
    email = normalise_email(email)
    if not name.strip() or len(name) > 200:
        raise Invalid("the name must be 1 to 200 characters")
    check_password_rules(password)
    if find_user(session, email=email) is not None:
        raise Conflict(f"a user with the email {email} exists already")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=_hasher().hash(password),
        active=True,
        created_by=actor.actor,
    )
    session.add(user)
    session.flush()
    audit_user(session, actor=actor.actor, action="user.create", user_id=user.id, details={"role": role.value})
    return user


def find_user(session: Session, *, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_user(session: Session, *, reference: str) -> User:
    """A user by id or email."""
    number = ascii_int(reference)
    user = session.get(User, number) if number is not None and number <= MAX_ID else find_user(session, email=reference)
    if user is None:
        raise NotFound(f"no user '{reference}'")
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.id)).all()


def set_active(session: Session, *, user: User, active: bool, actor: Principal) -> None:
    """Disable (sessions end at once: they are checked against the account) or enable an account."""
    if user.active == active:
        return
    user.active = active
    audit_user(
        session, actor=actor.actor, action="user.enable" if active else "user.disable", user_id=user.id, details={}
    )


def set_password(session: Session, *, user: User, password: str, actor: Principal) -> None:
    check_password_rules(password)
    user.password_hash = _hasher().hash(password)
    audit_user(session, actor=actor.actor, action="user.password", user_id=user.id, details={})


def set_role(session: Session, *, user: User, role: Role, actor: Principal) -> None:
    if user.role is role:
        return
    audit_user(
        session,
        actor=actor.actor,
        action="user.role",
        user_id=user.id,
        details={"from": user.role.value, "to": role.value},
    )
    user.role = role


def authenticate(session: Session, *, email: str, password: str, now: datetime | None = None) -> User | None:
    """The active user whose password this is, or None (an unknown email costs as long as a wrong password)."""
    user = find_user(session, email=email) if len(password) <= MAX_PASSWORD_LENGTH else None
    if user is None:
        _matches(_decoy_hash(), password)
        return None
    if not _matches(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = now or utcnow()
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return user


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
