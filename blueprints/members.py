"""An organisation's members: list, change a role, remove, leave."""

from __future__ import annotations

import uuid

from sanic import Blueprint
from sanic.response import HTTPResponse, empty

from app.accounts.roles import ANY_ROLE, ORG_STAFF, OWNERS
from app.http import docs
from app.http.auth import authorized, principal_of
from app.http.request import OnrampRequest, context_of
from app.http.responses import json
from app.http.validation import validate_json, validate_query
from app.members.schemas import MemberListQuery, MemberOut, MemberPage, RoleChangeIn

bp = Blueprint("members", url_prefix="/api/v1/members")


@bp.get("")
@docs.operation(
    summary="The organisation's members, newest first",
    tag="members",
    secured=docs.BEARER,
    parameter=docs.query_parameters(MemberListQuery),
    response=[docs.ok(200, MemberPage, "A page of members"), *docs.errors(503)],
)
@authorized(ORG_STAFF)
@validate_query(MemberListQuery)
async def list_members(request: OnrampRequest, query: MemberListQuery) -> HTTPResponse:
    return json(await context_of(request).members.list(principal_of(request), query))


@bp.patch("/<user_id:uuid>")
@docs.operation(
    summary="Make a member an owner or an owner a member (owners)",
    description="Demoting the last owner is 409. Takes effect at the member's next refresh.",
    tag="members",
    secured=docs.BEARER,
    body=docs.body(RoleChangeIn),
    response=[
        docs.ok(200, MemberOut, "The member"),
        *docs.errors(404, 409, 503),
    ],
)
@authorized(OWNERS)
@validate_json(RoleChangeIn)
async def change_role(
    request: OnrampRequest, user_id: uuid.UUID, body: RoleChangeIn
) -> HTTPResponse:
    members = context_of(request).members
    return json(await members.change_role(principal_of(request), user_id, body))


@bp.delete("/<user_id:uuid>")
@docs.operation(
    summary="Remove a member (owners), or leave (anyone, with their own id)",
    description="Removing the last owner is 409. The member's refresh tokens for the "
    "organisation are revoked at once.",
    tag="members",
    secured=docs.BEARER,
    response=[docs.ok(204, None, "Removed"), *docs.errors(403, 404, 409, 503)],
)
@authorized(ANY_ROLE)
async def remove_member(request: OnrampRequest, user_id: uuid.UUID) -> HTTPResponse:
    await context_of(request).members.remove(principal_of(request), user_id)
    return empty()
