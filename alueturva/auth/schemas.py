from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from alueturva.api_types import ApiInput
from alueturva.auth.models import Role


class ApiKeyCreate(ApiInput):
    name: str = Field(min_length=1, max_length=120)
    role: Role


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself; shown only in this response")


class ApiKeyList(BaseModel):
    items: list[ApiKeyRead]
    total: int
