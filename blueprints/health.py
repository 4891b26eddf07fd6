"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from app.http.errors import error_body
from app.http.types import context_of

bp = Blueprint("health")
_ALIVE = b'{"status":"ok"}'


@bp.get("/health")
async def liveness(request: Request) -> HTTPResponse:
    """The process answers; touches nothing else (not even the JSON encoder)."""
    return raw(_ALIVE, content_type="application/json")


@bp.get("/ready")
async def readiness(request: Request) -> HTTPResponse:
    """The database answers and the background jobs run."""
    failures = await context_of(request).failed_checks()
    if failures:
        body = error_body(request, "not_ready", "Service is not ready", failures)
        return json(body, status=503)
    return json({"status": "ready"})
