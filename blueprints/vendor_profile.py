"""A vendor contact's own vendor profile."""

from __future__ import annotations

from sanic import Blueprint
from sanic.response import HTTPResponse

from app.accounts.roles import Role
from app.http import docs
from app.http.auth import authorized, principal_of
from app.http.request import OnrampRequest, context_of
from app.http.responses import json
from app.http.validation import validate_json
from app.vendors.schemas import ProfileOut, ProfilePatch

bp = Blueprint("vendor_profile", url_prefix="/api/v1/vendor-profile")


@bp.get("")
@docs.operation(
    summary="The caller's own vendor (vendor contacts)",
    tag="vendor profile",
    secured=docs.BEARER,
    response=[docs.ok(200, ProfileOut, "The vendor"), *docs.errors(401, 403, 404, 503)],
)
@authorized({Role.VENDOR})
async def get_profile(request: OnrampRequest) -> HTTPResponse:
    return json(await context_of(request).vendors.get_profile(principal_of(request)))


@bp.patch("")
@docs.operation(
    summary="Update the contact fields of the caller's own vendor",
    tag="vendor profile",
    secured=docs.BEARER,
    body=docs.body(ProfilePatch),
    response=[
        docs.ok(200, ProfileOut, "The updated vendor"),
        *docs.errors(401, 403, 404, 503),
    ],
)
@authorized({Role.VENDOR})
@validate_json(ProfilePatch)
async def update_profile(request: OnrampRequest, body: ProfilePatch) -> HTTPResponse:
    changes = body.model_dump(exclude_unset=True)
    return json(await context_of(request).vendors.update_profile(principal_of(request), changes))
