"""Request and response shapes of the members endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.accounts.roles import Role, StaffRole
from app.accounts.schemas import Person
from app.fields import QueryModel, StrictModel


class MemberListQuery(QueryModel):
    role: Role | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)


class RoleChangeIn(StrictModel):
    role: StaffRole


class MemberOut(BaseModel):
    user: Person
    role: Role
    joined_at: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None
