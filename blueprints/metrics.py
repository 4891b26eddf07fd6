"""Prometheus metrics of this host's workers at /metrics (METRICS_MODE decides who may read)."""

from __future__ import annotations

import hmac

from sanic import Blueprint
from sanic.response import HTTPResponse, raw

from app.errors import NotFound, Unauthenticated
from app.http import docs
from app.http.auth import bearer_token
from app.http.request import OnrampRequest, context_of
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
async def metrics_endpoint(request: OnrampRequest) -> HTTPResponse:
    context = context_of(request)
    settings = context.settings
    if settings.METRICS_MODE == "off":
        raise NotFound(f"Requested URL {request.path} not found")
    if settings.METRICS_MODE == "token":
        token = bearer_token(request) or ""
        expected = settings.METRICS_TOKEN.get_secret_value().encode()
        if not hmac.compare_digest(token.encode(), expected):
            raise Unauthenticated("Send the metrics token: Authorization: Bearer <token>")
    tally = request.app.ctx.tally
    if tally is not None:  # this worker's own numbers, up to this request
        tally.flush()
    metrics.sample_worker(context)
    body, content_type = metrics.render(await context.outbox_depth())
    return raw(body, content_type=content_type)
