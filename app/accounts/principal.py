"""Who is calling: taken from a verified access token, so no database round trip."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.accounts.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user acting in one organisation, in one role."""

    user_id: uuid.UUID
    organization_id: uuid.UUID
    role: Role
