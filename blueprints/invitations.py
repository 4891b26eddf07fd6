"""Invitations: create and list per vendor, resend, revoke; public lookup and accept."""

from __future__ import annotations

import uuid

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from app.accounts.roles import ORG_STAFF
from app.http import docs
from app.http.auth import authorized, principal_of
from app.http.types import context_of
from app.http.validation import validate_json, validate_query
from app.invitations.schemas import (
    AcceptIn,
    AcceptOut,
    InvitationCreate,
    InvitationListQuery,
    InvitationOut,
    InvitationPage,
    LookupOut,
    LookupQuery,
)

bp = Blueprint("invitations", url_prefix="/api/v1")


@bp.post("/vendors/<vendor_id:uuid>/invitations")
@openapi.definition(
    summary="Invite the vendor's contact (email queued)",
    description="While the vendor has an open (pending or sent) invitation, another is 409.",
    tag="invitations",
    secured=docs.BEARER,
    body=docs.body(InvitationCreate),
    response=[
        docs.ok(202, InvitationOut, "Invitation created, email queued"),
        *docs.errors(400, 401, 403, 404, 409, 413, 415, 422, 503),
    ],
)
@authorized(ORG_STAFF)
@validate_json(InvitationCreate)
async def create_invitation(
    request: Request, vendor_id: uuid.UUID, body: InvitationCreate
) -> HTTPResponse:
    invitations = context_of(request).invitations
    return json(await invitations.create(principal_of(request), vendor_id, body), status=202)


@bp.get("/vendors/<vendor_id:uuid>/invitations")
@openapi.definition(
    summary="A vendor's invitations, newest first",
    tag="invitations",
    secured=docs.BEARER,
    parameter=docs.query_parameters(InvitationListQuery),
    response=[
        docs.ok(200, InvitationPage, "A page of invitations"),
        *docs.errors(401, 403, 404, 422, 503),
    ],
)
@authorized(ORG_STAFF)
@validate_query(InvitationListQuery)
async def list_invitations(
    request: Request, vendor_id: uuid.UUID, query: InvitationListQuery
) -> HTTPResponse:
    return json(
        await context_of(request).invitations.list_for_vendor(
            principal_of(request), vendor_id, query
        )
    )


@bp.post("/invitations/<invitation_id:uuid>/resend")
@openapi.definition(
    summary="New token, new email; the old token stops working",
    tag="invitations",
    secured=docs.BEARER,
    response=[
        docs.ok(202, InvitationOut, "Email queued"),
        *docs.errors(401, 403, 404, 409, 503),
    ],
)
@authorized(ORG_STAFF)
async def resend_invitation(request: Request, invitation_id: uuid.UUID) -> HTTPResponse:
    invitations = context_of(request).invitations
    return json(await invitations.resend(principal_of(request), invitation_id), status=202)


@bp.post("/invitations/<invitation_id:uuid>/revoke")
@openapi.definition(
    summary="Revoke an invitation",
    tag="invitations",
    secured=docs.BEARER,
    response=[docs.ok(200, InvitationOut, "Revoked"), *docs.errors(401, 403, 404, 409, 503)],
)
@authorized(ORG_STAFF)
async def revoke_invitation(request: Request, invitation_id: uuid.UUID) -> HTTPResponse:
    return json(await context_of(request).invitations.revoke(principal_of(request), invitation_id))


@bp.get("/invitations/lookup")
@openapi.definition(
    summary="What an invitation token is for (public)",
    tag="invitations",
    parameter=docs.query_parameters(LookupQuery),
    response=[docs.ok(200, LookupOut, "The invitation"), *docs.errors(410, 422, 503)],
)
@validate_query(LookupQuery)
async def lookup_invitation(request: Request, query: LookupQuery) -> HTTPResponse:
    return json(await context_of(request).invitations.lookup(query.token))


@bp.post("/invitations/accept")
@openapi.definition(
    summary="Accept an invitation: creates the contact's login, activates the vendor",
    tag="invitations",
    body=docs.body(AcceptIn),
    response=[
        docs.ok(201, AcceptOut, "The contact's account and access token"),
        *docs.errors(400, 409, 410, 413, 415, 422, 503),
    ],
)
@validate_json(AcceptIn)
async def accept_invitation(request: Request, body: AcceptIn) -> HTTPResponse:
    return json(await context_of(request).invitations.accept(body), status=201)
