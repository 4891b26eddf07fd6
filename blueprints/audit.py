"""The organisation's audit log (owners)."""

from __future__ import annotations

from sanic import Blueprint
from sanic.response import HTTPResponse

from app.accounts.roles import OWNERS
from app.audit.schemas import AuditPage, AuditQuery
from app.http import docs
from app.http.auth import authorized, principal_of
from app.http.request import OnrampRequest, context_of
from app.http.responses import json
from app.http.validation import validate_query

bp = Blueprint("audit", url_prefix="/api/v1/audit-events")


@bp.get("")
@docs.operation(
    summary="Who changed what and when, newest first (owners)",
    description="`since` is inclusive, `until` exclusive. Background jobs appear with "
    "`actor: null` and their `job` name.",
    tag="audit",
    secured=docs.BEARER,
    parameter=docs.query_parameters(AuditQuery),
    response=[docs.ok(200, AuditPage, "A page of events"), *docs.errors(503)],
)
@authorized(OWNERS)
@validate_query(AuditQuery)
async def list_audit_events(request: OnrampRequest, query: AuditQuery) -> HTTPResponse:
    organization_id = principal_of(request).organization_id
    return json(await context_of(request).audit.list(organization_id, query))
