"""Accounts of the people who sign in to the web console: argon2 password hashes, a growing lock-out after wrong
passwords, and every change audited with its actor. Roles are the API's roles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.auth.models import Role, User
from alueturva.auth.service import Principal
from alueturva.db import utcnow
from alueturva.errors import Conflict, Invalid, NotFound
from alueturva.settings import get_settings

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
LONGEST_LOCK = timedelta(hours=1)


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
    """An audit event about an account (its changes, its sessions, its lock-outs)."""
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
        failed_logins=0,
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
    user = session.get(User, int(reference)) if reference.isdigit() else find_user(session, email=reference)
    if user is None:
        raise NotFound(f"no user '{reference}'")
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.scalars(select(User).order_by(User.id)).all()


def set_active(session: Session, *, user: User, active: bool, actor: Principal) -> None:
    """Disable (sessions end at once: they are checked against the account) or enable an account; enabling
    also lifts a lock-out after wrong passwords."""
    unlocking = active and bool(user.failed_logins or user.locked_until)
    if user.active == active and not unlocking:
        return
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    audit_user(
        session, actor=actor.actor, action="user.enable" if active else "user.disable", user_id=user.id, details={}
    )


def set_password(session: Session, *, user: User, password: str, actor: Principal) -> None:
    check_password_rules(password)
    user.password_hash = _hasher().hash(password)
    user.failed_logins, user.locked_until = 0, None
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


@dataclass(frozen=True)
class SignIn:
    user: User | None
    locked_until: datetime | None = None


def _lock_after(failures: int) -> timedelta:
    """Past the allowed failures the lock doubles with each further wrong password, up to an hour."""
    settings = get_settings()
    extra = failures - settings.login_max_failures
    return min(timedelta(seconds=settings.login_lock_seconds * 2 ** min(extra, 20)), LONGEST_LOCK)


def authenticate(session: Session, *, email: str, password: str, now: datetime | None = None) -> SignIn:
    """The user if the password is theirs and the account may sign in now; otherwise no user (and, while
    locked, until when). A wrong password counts towards the lock even during a lock."""
    now = now or utcnow()
    user = find_user(session, email=email) if len(password) <= MAX_PASSWORD_LENGTH else None
    if user is None:
        _matches(_decoy_hash(), password)
        return SignIn(None)
    locked = user.locked_until is not None and user.locked_until > now
    if not _matches(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= get_settings().login_max_failures:
            user.locked_until = now + _lock_after(user.failed_logins)
            details: dict[str, object] = {"failures": user.failed_logins, "until": user.locked_until.isoformat()}
            audit_user(session, actor="system", action="user.locked", user_id=user.id, details=details)
        return SignIn(None, user.locked_until if user.locked_until and user.locked_until > now else None)
    if locked:
        return SignIn(None, user.locked_until)
    if not user.active:
        return SignIn(None)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return SignIn(user)


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
