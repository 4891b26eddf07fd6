"""An organisation's vendors: list, create, read, update, delete."""

from __future__ import annotations

import uuid

from sanic import Blueprint
from sanic.response import HTTPResponse, empty

from app.accounts.roles import ORG_STAFF
from app.http import docs
from app.http.auth import authorized, principal_of
from app.http.request import OnrampRequest, context_of
from app.http.responses import json
from app.http.validation import validate_json, validate_query
from app.vendors.schemas import VendorCreate, VendorListQuery, VendorOut, VendorPage, VendorPatch

bp = Blueprint("vendors", url_prefix="/api/v1/vendors")


@bp.get("")
@docs.operation(
    summary="List vendors, newest first",
    description="`q` matches name or contact email, case-insensitively. "
    "Pass `next_cursor` back as `cursor` for the next page.",
    tag="vendors",
    secured=docs.BEARER,
    parameter=docs.query_parameters(VendorListQuery),
    response=[docs.ok(200, VendorPage, "A page of vendors"), *docs.errors(503)],
)
@authorized(ORG_STAFF)
@validate_query(VendorListQuery)
async def list_vendors(request: OnrampRequest, query: VendorListQuery) -> HTTPResponse:
    return json(await context_of(request).vendors.list(principal_of(request), query))


@bp.post("")
@docs.links(
    201,
    "vendor_id",
    "get_vendor",
    "update_vendor",
    "delete_vendor",
    "create_invitation",
    "list_invitations",
)
@docs.operation(
    summary="Create a vendor (status draft)",
    tag="vendors",
    secured=docs.BEARER,
    body=docs.body(VendorCreate),
    response=[
        docs.ok(201, VendorOut, "The new vendor"),
        *docs.errors(409, 503),
    ],
)
@authorized(ORG_STAFF)
@validate_json(VendorCreate)
async def create_vendor(request: OnrampRequest, body: VendorCreate) -> HTTPResponse:
    return json(await context_of(request).vendors.create(principal_of(request), body), status=201)


@bp.get("/<vendor_id:uuid>")
@docs.operation(
    summary="Read a vendor",
    tag="vendors",
    secured=docs.BEARER,
    response=[docs.ok(200, VendorOut, "The vendor"), *docs.errors(404, 503)],
)
@authorized(ORG_STAFF)
async def get_vendor(request: OnrampRequest, vendor_id: uuid.UUID) -> HTTPResponse:
    return json(await context_of(request).vendors.get(principal_of(request), vendor_id))


@bp.patch("/<vendor_id:uuid>")
@docs.operation(
    summary="Change some fields of a vendor",
    description="Only the fields sent change; `null` clears an optional field. "
    "`status` may be set to suspended or archived, or back to active from suspended.",
    tag="vendors",
    secured=docs.BEARER,
    body=docs.body(VendorPatch),
    response=[
        docs.ok(200, VendorOut, "The updated vendor"),
        *docs.errors(404, 409, 503),
    ],
)
@authorized(ORG_STAFF)
@validate_json(VendorPatch)
async def update_vendor(
    request: OnrampRequest, vendor_id: uuid.UUID, body: VendorPatch
) -> HTTPResponse:
    changes = body.model_dump(exclude_unset=True)
    return json(await context_of(request).vendors.update(principal_of(request), vendor_id, changes))


@bp.delete("/<vendor_id:uuid>")
@docs.operation(
    summary="Delete a vendor",
    tag="vendors",
    secured=docs.BEARER,
    response=[docs.ok(204, None, "Deleted"), *docs.errors(404, 503)],
)
@authorized(ORG_STAFF)
async def delete_vendor(request: OnrampRequest, vendor_id: uuid.UUID) -> HTTPResponse:
    await context_of(request).vendors.delete(principal_of(request), vendor_id)
    return empty()
