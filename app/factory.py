"""The app factory: settings -> Sanic -> middleware -> blueprints -> listeners.

It is called in the main process, in every worker and in the reloader, so it only
builds the app: no I/O, no connections, no tasks. Those belong to listeners.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from app import jsonutil, lifecycle
from app.http import docs
from app.http.compression import make_compressor
from app.http.errors import ApiErrorHandler
from app.http.probes import LIVENESS, PROBES
from app.http.registry import register_blueprints
from app.http.request import OnrampRequest
from app.http.response_hooks import make_finisher
from app.http.security_headers import security_headers
from app.observability import metrics
from app.observability.logging.config import logging_config, set_record_fields
from app.observability.requests import make_observer
from app.pages import TEMPLATES, docs_ui
from app.settings import DOTENV_FILE, Settings, load_settings
from app.state import AppState, OnrampApp


def create_app(*, settings: Settings | None = None, name: str = "onramp") -> OnrampApp:
    """Build a fully configured app.

    Keyword-only on purpose: the sanic CLI first calls a factory with its argparse
    Namespace as the first positional argument.
    """
    settings = settings or load_settings(os.environ, dotenv=Path(DOTENV_FILE))
    tally = _request_tally(settings)
    app: OnrampApp = Sanic(
        name,
        ctx=AppState(settings, tally),
        dumps=jsonutil.dumps,
        loads=jsonutil.loads,
        # Sanic types `request_class` as its own Request class, parametrised with its
        # defaults, so a subclass typed with our app and context does not fit; the
        # running app uses it all the same (docs/upstream/sanic-typed-request-class.md).
        request_class=OnrampRequest,  # type: ignore[arg-type]
        error_handler=ApiErrorHandler(
            show_details=settings.SHOW_ERROR_DETAILS,
            complete_allow="routing_allow" not in settings.COMPAT_DISABLED,
        ),
        log_config=logging_config(settings.LOG_LEVEL, settings.LOG_FORMAT),
    )
    set_record_fields(
        settings.LOG_FORMAT,
        plain_exceptions="tracerite_json_logs" not in settings.COMPAT_DISABLED,
    )
    app.config.update(_sanic_config(settings))
    if settings.DOCS_ENABLED:
        app.config.update(docs_ui.sanic_config())
        docs_ui.serve_assets(app)
    if _extended(settings):
        _extend(app)
    if settings.DOCS_ENABLED:
        if "sanic_ext_no_content" not in settings.COMPAT_DISABLED:
            from app.compat import sanic_ext_no_content

            sanic_ext_no_content.apply()
        app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer", bearer_format="JWT")
        app.ext.openapi.describe(
            "Onramp", version="1", description="Vendor onboarding: vendors, invitations."
        )

    bypass = () if settings.LOG_PROBES else (LIVENESS,)
    app.middleware(_finisher(settings, tally, bypass), "response")
    register_blueprints(app, settings.BLUEPRINTS)
    if settings.DOCS_ENABLED:
        docs.publish(app, settings)
    app.state.reload_dirs.add(TEMPLATES)  # `--dev`: a changed template reloads too
    lifecycle.install(app, settings)
    logging.getLogger("onramp").setLevel(settings.LOG_LEVEL)
    return app


def _request_tally(settings: Settings) -> metrics.RequestTally | None:
    if settings.METRICS_MODE == "off":
        return None
    batched = "prometheus_bulk" not in settings.COMPAT_DISABLED
    return metrics.RequestTally(partial(metrics.instruments, settings), batched=batched)


def _finisher(
    settings: Settings, tally: metrics.RequestTally | None, bypass: tuple[str, ...]
) -> Callable[[Request, BaseHTTPResponse], None]:
    """Request id and security headers, observation, then compression (it needs the
    final body)."""
    observe = None
    if tally is not None or settings.REQUEST_LOG:
        observe = make_observer(
            tally,
            log_requests=settings.REQUEST_LOG,
            quiet_routes=() if settings.LOG_PROBES else PROBES,
        )
    compress = None
    if settings.COMPRESS_LEVEL > 0:
        compress = make_compressor(
            min_size=settings.COMPRESS_MIN_SIZE, level=settings.COMPRESS_LEVEL
        )
    return make_finisher(
        security_headers=security_headers(settings.HSTS_SECONDS),
        observe=observe,
        compress=compress,
        compress_min_size=settings.COMPRESS_MIN_SIZE,
        bypass=bypass,
    )


def _extended(settings: Settings) -> bool:
    """Whether sanic-ext is needed: for the OpenAPI document, or for CORS. Without
    either (production's default) it is not even imported, which shortens every
    process's start (the pages render their templates with Jinja2 directly)."""
    return settings.DOCS_ENABLED or bool(settings.CORS_ORIGINS)


def _extend(app: OnrampApp) -> None:
    """sanic-ext, set up the documented way (`Extend`): its configuration (below) says
    which of its extensions serve (OpenAPI with DOCS_ENABLED, CORS with CORS_ORIGINS)."""
    from sanic_ext import Extend

    Extend(app)


def _sanic_config(settings: Settings) -> dict[str, Any]:
    """Sanic's and sanic-ext's own settings, derived from ours."""
    return {
        "REQUEST_MAX_SIZE": settings.REQUEST_MAX_SIZE,
        "REQUEST_TIMEOUT": settings.REQUEST_TIMEOUT,
        "REQUEST_BODY_TIMEOUT": settings.REQUEST_BODY_TIMEOUT,  # app.compat.request_limits
        "RESPONSE_TIMEOUT": settings.RESPONSE_TIMEOUT,
        "KEEP_ALIVE_TIMEOUT": settings.KEEP_ALIVE_TIMEOUT,
        "GRACEFUL_SHUTDOWN_TIMEOUT": settings.GRACEFUL_SHUTDOWN_TIMEOUT,
        "ACCESS_LOG": settings.ACCESS_LOG,
        "FALLBACK_ERROR_FORMAT": "json",
        # Sanic's banner says "mode: production" unless --dev/--debug: it means Sanic's
        # debug mode, not our profile, which it shows beside it.
        "MOTD_DISPLAY": {"profile": settings.APP_ENV},
        # sanic-ext only when used (else Sanic would set it up with every extension),
        # OpenAPI under /docs only when enabled; no built-in health monitor.
        "AUTO_EXTEND": _extended(settings),
        "OAS": settings.DOCS_ENABLED,
        "OAS_URL_PREFIX": "/docs",
        "OAS_UI_DEFAULT": "swagger",
        "OAS_UI_REDOC": False,
        "OAS_AUTODOC": False,
        # CORS costs a middleware on every request: only when origins are configured.
        "CORS": bool(settings.CORS_ORIGINS),
        "CORS_ORIGINS": settings.CORS_ORIGINS,
        "HTTP_AUTO_HEAD": False,
        "HTTP_AUTO_OPTIONS": bool(settings.CORS_ORIGINS),
        "HEALTH": False,
        # Behind a reverse proxy (see README, Production).
        "FORWARDED_SECRET": settings.FORWARDED_SECRET.get_secret_value() or None,
        "PROXIES_COUNT": settings.PROXIES_COUNT or None,
        "REAL_IP_HEADER": settings.REAL_IP_HEADER or None,
    }
