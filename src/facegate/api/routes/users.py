"""Accounts (administrators only): list, create, one-time password reset links."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from facegate.api.routes.auth import UserPublic
from facegate.domain.accounts import AccountRole
from facegate.http.deps import Admin, Deps, context_for
from facegate.services import accounts
from facegate.services.accounts import RESET_LINK_HOURS

router = APIRouter(prefix="/users", tags=["users"])


class UserCreate(BaseModel):
    """An account to create (a resident's names their person)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: AccountRole
    person_id: str | None = None


class ResetLink(BaseModel):
    """A one-time reset link's path (hand it over when no mail server is set)."""

    path: str
    valid_hours: int


@router.get("")
def list_users(deps: Deps, principal: Admin) -> list[UserPublic]:
    """Every account."""
    return [UserPublic.of(u) for u in accounts.list_users(context_for(deps, principal))]


@router.post("", status_code=201)
def create_user(deps: Deps, principal: Admin, body: UserCreate) -> UserPublic:
    """Create an account."""
    user = accounts.create_user(
        context_for(deps, principal),
        deps.hasher,
        body.username,
        body.password,
        body.role,
        body.person_id,
    )
    return UserPublic.of(user)


@router.post("/{user_id}/reset-link", status_code=201)
def reset_link(deps: Deps, principal: Admin, user_id: str) -> ResetLink:
    """Issue a one-time password reset link for an account."""
    token = accounts.issue_reset_token(
        context_for(deps, principal), user_id, timedelta(hours=RESET_LINK_HOURS)
    )
    return ResetLink(path=f"/reset?token={token}", valid_hours=RESET_LINK_HOURS)
