from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from alueturva.api_types import PathId
from alueturva.auth import service
from alueturva.auth.dependencies import Admin, DbSession
from alueturva.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyRead
from alueturva.errors import API_ERRORS

router = APIRouter(prefix="/api/v1/apikeys", tags=["auth"], responses=API_ERRORS)


@router.get("", response_model=ApiKeyList)
def list_api_keys(session: DbSession, _: Admin) -> ApiKeyList:
    keys = service.list_api_keys(session)
    return ApiKeyList(items=[ApiKeyRead.model_validate(k) for k in keys], total=len(keys))


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(body: ApiKeyCreate, session: DbSession, principal: Admin) -> ApiKeyCreated:
    api_key, plain = service.create_api_key(session, name=body.name, role=body.role, created_by=principal)
    return ApiKeyCreated(**ApiKeyRead.model_validate(api_key).model_dump(), key=plain)


@router.post("/{key_id}/revoke", response_model=ApiKeyRead)
def revoke_api_key(key_id: PathId, session: DbSession, principal: Admin) -> ApiKeyRead:
    api_key = service.get_api_key(session, key_id=key_id)
    if api_key is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no API key with id {key_id}")
    if api_key.revoked_at is None:
        service.revoke_api_key(session, api_key=api_key, revoked_by=principal)
    return ApiKeyRead.model_validate(api_key)
