"""Prometheus metrics of this host's workers at /metrics (METRICS_MODE decides who may read)."""

from __future__ import annotations

import hmac

from sanic import Request
from sanic.response import HTTPResponse, raw

from app.errors import NotFound, Unauthenticated
from app.http import docs
from app.http.blueprint import Blueprint
from app.http.types import context_of, state_of
from app.observability import metrics

bp = Blueprint("metrics")


@bp.get("/metrics")
@docs.operation(
    summary="Prometheus metrics of this host",
    tag="operations",
    response=[
        docs.text(200, "Prometheus text exposition format"),
        *docs.errors(401, 404, 503),
    ],
)
async def metrics_endpoint(request: Request) -> HTTPResponse:
    context = context_of(request)
    settings = context.settings
    if settings.METRICS_MODE == "off":
        raise NotFound(f"Requested URL {request.path} not found")
    if settings.METRICS_MODE == "token":
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        expected = settings.METRICS_TOKEN.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise Unauthenticated("Send the metrics token: Authorization: Bearer <token>")
    tally = state_of(request).tally
    if tally is not None:  # this worker's own numbers, up to this request
        tally.flush()
    metrics.sample_worker(context)
    body, content_type = metrics.render(await context.outbox_depth())
    return raw(body, content_type=content_type)
