"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sanic import Blueprint
from sanic.response import HTTPResponse, raw

from app.http import docs
from app.http.errors import error_body
from app.http.probes import LIVENESS, READINESS
from app.http.request import OnrampRequest, context_of
from app.http.responses import json

bp = Blueprint("health")
READY_RETRY_AFTER = 5  # seconds
_ALIVE = b'{"status":"ok"}'


class Alive(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]


@bp.get(LIVENESS)
@docs.operation(
    summary="Liveness: the process answers",
    tag="health",
    response=[docs.ok(200, Alive, "Alive")],
)
async def liveness(request: OnrampRequest) -> HTTPResponse:
    """The process answers; touches nothing else (not even the JSON encoder)."""
    return raw(_ALIVE, content_type="application/json")


@bp.get(READINESS)
@docs.operation(
    summary="Readiness: the database answers and the background jobs run",
    description="503 lists each failed check (`database`, `mail`, `job:<name>`) in "
    "`details`, with why.",
    tag="health",
    response=[docs.ok(200, Ready, "Ready"), *docs.errors(503)],
)
async def readiness(request: OnrampRequest) -> HTTPResponse:
    """The database answers and the background jobs run."""
    failures = await context_of(request).failed_checks()
    if failures:
        body = error_body(request, "not_ready", "Service is not ready", failures)
        return json(body, status=503, headers={"Retry-After": str(READY_RETRY_AFTER)})
    return json({"status": "ready"})
