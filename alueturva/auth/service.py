from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alueturva.audit import service as audit
from alueturva.auth.models import ApiKey, User
from alueturva.auth.roles import GRANTS, Role
from alueturva.db import utcnow
from alueturva.digits import ascii_int

KEY_PREFIX = "alt_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key, the command line, a contact acting through a link or an SMS, or the system."""

    actor: str
    role: Role | None = None
    name: str = ""

    def may(self, role: Role) -> bool:
        return self.role is not None and role in GRANTS[self.role]

    @property
    def sees_contact_details(self) -> bool:
        """Mobile numbers and email addresses are for operators and admins only (docs/security.md): viewers and
        reporters see names, titles, roles and organisations."""
        return self.may(Role.operator)


SYSTEM = Principal(actor="system", role=Role.admin, name="system")


def cli_principal() -> Principal:
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return Principal(actor=f"cli:{user}", role=Role.admin, name=user)


def hash_key(key: str) -> str:
    """Keys are 256 random bits, so one SHA-256 is enough; the key itself is never stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, *, name: str, role: Role, created_by: Principal) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain text, which is shown once and never again."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, role=role, prefix=plain[:10], key_hash=hash_key(plain), created_by=created_by.actor)
    session.add(api_key)
    session.flush()
    audit.record(
        session,
        actor=created_by.actor,
        action="apikey.create",
        entity_type="api_key",
        entity_id=api_key.id,
        details={"name": name, "role": role.value, "prefix": api_key.prefix},
    )
    return api_key, plain


def revoke_api_key(session: Session, *, api_key: ApiKey, revoked_by: Principal) -> None:
    api_key.revoked_at = utcnow()
    audit.record(
        session,
        actor=revoked_by.actor,
        action="apikey.revoke",
        entity_type="api_key",
        entity_id=api_key.id,
        details={"name": api_key.name},
    )


def principal_for_key(session: Session, *, key: str) -> Principal | None:
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if api_key is None or api_key.revoked_at is not None:
        return None
    return Principal(actor=f"apikey:{api_key.id}", role=api_key.role, name=api_key.name)


def list_api_keys(session: Session) -> Sequence[ApiKey]:
    return session.scalars(select(ApiKey).order_by(ApiKey.id)).all()


def get_api_key(session: Session, *, key_id: int) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """The name people read for each actor recorded with a change: a console account's or an API key's name, the
    command line's user; any other actor as recorded."""
    wanted = set(actors)
    ids = {
        kind: {
            number for a in wanted if a.startswith(prefix) and (number := ascii_int(a.rsplit(":", 1)[1])) is not None
        }
        for kind, prefix in (("user", "web:user:"), ("key", "apikey:"))
    }
    names = {actor: actor.removeprefix("cli:") for actor in wanted}
    if ids["user"]:
        for user_id, name in session.execute(select(User.id, User.name).where(User.id.in_(ids["user"]))):
            names[f"web:user:{user_id}"] = name
    if ids["key"]:
        for key_id, name in session.execute(select(ApiKey.id, ApiKey.name).where(ApiKey.id.in_(ids["key"]))):
            names[f"apikey:{key_id}"] = name
    return names
