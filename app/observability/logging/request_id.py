"""Every record carries the request id: the current request's, or "-" outside one."""

from __future__ import annotations

import logging

from sanic import Request

from app.http.request_id import request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                record.request_id = request_id(Request.get_current())
            except Exception:  # no request in this context (listeners, background jobs)
                record.request_id = "-"
        return True
