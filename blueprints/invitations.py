"""Invitations: of vendor contacts and teammates; list, read, resend, revoke; public
lookup and accept."""

from __future__ import annotations

import uuid

from sanic import Blueprint
from sanic.response import HTTPResponse

from app.accounts.roles import ORG_STAFF, OWNERS
from app.http import docs
from app.http.auth import authorized, client_ip, optional_principal, principal_of
from app.http.request import OnrampRequest, context_of
from app.http.responses import json
from app.http.security_headers import NO_STORE
from app.http.validation import validate_json, validate_query
from app.invitations.schemas import (
    AcceptIn,
    AcceptOut,
    InvitationCreate,
    InvitationListQuery,
    InvitationOut,
    InvitationPage,
    InvitationSearchQuery,
    LookupOut,
    LookupQuery,
    TeammateInvitationCreate,
)

bp = Blueprint("invitations", url_prefix="/api/v1")


@bp.post("/vendors/<vendor_id:uuid>/invitations")
@docs.links(202, "invitation_id", "get_invitation", "resend_invitation", "revoke_invitation")
@docs.operation(
    summary="Invite the vendor's contact (email queued)",
    description="While the vendor has an open (pending or sent) invitation, another is 409. "
    "Sending limits (per organisation per hour and day, per recipient per day) answer 429 "
    "with Retry-After.",
    tag="invitations",
    secured=docs.BEARER,
    body=docs.body(InvitationCreate),
    response=[
        docs.ok(202, InvitationOut, "Invitation created, email queued"),
        *docs.errors(404, 409, 429, 503),
    ],
)
@authorized(ORG_STAFF)
@validate_json(InvitationCreate)
async def create_invitation(
    request: OnrampRequest, vendor_id: uuid.UUID, body: InvitationCreate
) -> HTTPResponse:
    invitations = context_of(request).invitations
    return json(await invitations.create(principal_of(request), vendor_id, body), status=202)


@bp.get("/vendors/<vendor_id:uuid>/invitations")
@docs.operation(
    summary="A vendor's invitations, newest first",
    tag="invitations",
    secured=docs.BEARER,
    parameter=docs.query_parameters(InvitationListQuery),
    response=[
        docs.ok(200, InvitationPage, "A page of invitations"),
        *docs.errors(404, 503),
    ],
)
@authorized(ORG_STAFF)
@validate_query(InvitationListQuery)
async def list_invitations(
    request: OnrampRequest, vendor_id: uuid.UUID, query: InvitationListQuery
) -> HTTPResponse:
    return json(
        await context_of(request).invitations.list_for_vendor(
            principal_of(request), vendor_id, query
        )
    )


@bp.post("/invitations")
@docs.links(202, "invitation_id", "get_invitation", "resend_invitation", "revoke_invitation")
@docs.operation(
    summary="Invite a teammate (owners; email queued)",
    description="`role` is owner or member. 409 if the address already belongs to a member "
    "or has an open teammate invitation.",
    tag="invitations",
    secured=docs.BEARER,
    body=docs.body(TeammateInvitationCreate),
    response=[
        docs.ok(202, InvitationOut, "Invitation created, email queued"),
        *docs.errors(409, 429, 503),
    ],
)
@authorized(OWNERS)
@validate_json(TeammateInvitationCreate)
async def invite_teammate(request: OnrampRequest, body: TeammateInvitationCreate) -> HTTPResponse:
    invitations = context_of(request).invitations
    return json(await invitations.create_teammate(principal_of(request), body), status=202)


@bp.get("/invitations")
@docs.operation(
    summary="The organisation's invitations of every kind, newest first",
    tag="invitations",
    secured=docs.BEARER,
    parameter=docs.query_parameters(InvitationSearchQuery),
    response=[
        docs.ok(200, InvitationPage, "A page of invitations"),
        *docs.errors(503),
    ],
)
@authorized(ORG_STAFF)
@validate_query(InvitationSearchQuery)
async def search_invitations(request: OnrampRequest, query: InvitationSearchQuery) -> HTTPResponse:
    return json(await context_of(request).invitations.list(principal_of(request), query))


@bp.get("/invitations/<invitation_id:uuid>")
@docs.operation(
    summary="Read an invitation",
    tag="invitations",
    secured=docs.BEARER,
    response=[docs.ok(200, InvitationOut, "The invitation"), *docs.errors(404, 503)],
)
@authorized(ORG_STAFF)
async def get_invitation(request: OnrampRequest, invitation_id: uuid.UUID) -> HTTPResponse:
    return json(await context_of(request).invitations.get(principal_of(request), invitation_id))


@bp.post("/invitations/<invitation_id:uuid>/resend")
@docs.operation(
    summary="New token, new email; the old token stops working",
    description="Teammate invitations: owners only. At most INVITATION_RESEND_MAX_PER_HOUR "
    "resends of one invitation per hour (then 429 with Retry-After).",
    tag="invitations",
    secured=docs.BEARER,
    response=[
        docs.ok(202, InvitationOut, "Email queued"),
        *docs.errors(404, 409, 429, 503),
    ],
)
@authorized(ORG_STAFF)
async def resend_invitation(request: OnrampRequest, invitation_id: uuid.UUID) -> HTTPResponse:
    invitations = context_of(request).invitations
    return json(await invitations.resend(principal_of(request), invitation_id), status=202)


@bp.post("/invitations/<invitation_id:uuid>/revoke")
@docs.operation(
    summary="Revoke an invitation",
    description="Teammate invitations: owners only.",
    tag="invitations",
    secured=docs.BEARER,
    response=[docs.ok(200, InvitationOut, "Revoked"), *docs.errors(404, 409, 503)],
)
@authorized(ORG_STAFF)
async def revoke_invitation(request: OnrampRequest, invitation_id: uuid.UUID) -> HTTPResponse:
    return json(await context_of(request).invitations.revoke(principal_of(request), invitation_id))


@bp.get("/invitations/lookup")
@docs.operation(
    summary="What an invitation token is for (public)",
    tag="invitations",
    parameter=docs.query_parameters(LookupQuery),
    response=[docs.ok(200, LookupOut, "The invitation"), *docs.errors(410, 503)],
)
@validate_query(LookupQuery)
async def lookup_invitation(request: OnrampRequest, query: LookupQuery) -> HTTPResponse:
    return json(await context_of(request).acceptance.lookup(query.token))


@bp.post("/invitations/accept")
@docs.operation(
    summary="Accept an invitation: join the organisation (a new or an existing account)",
    description="A new email: `full_name` and `password` create the account. An email "
    "that has an account: that account's `password`, or the request signed in as that "
    "account (bearer token). The token is spent only on success.",
    tag="invitations",
    body=docs.body(AcceptIn),
    response=[
        docs.ok(201, AcceptOut, "The account, its new membership and a session"),
        *docs.errors(401, 403, 409, 410, 429, 503),
    ],
)
@validate_json(AcceptIn)
async def accept_invitation(request: OnrampRequest, body: AcceptIn) -> HTTPResponse:
    caller = optional_principal(request)
    accepted = await context_of(request).acceptance.accept(body, caller, client_ip(request))
    return json(accepted, status=201, headers=NO_STORE)
