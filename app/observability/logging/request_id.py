"""Every record carries the request id: the current request's, or "-" outside one."""

from __future__ import annotations

import logging

from app.http.request import current_request
from app.http.request_id import request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request = current_request()
            record.request_id = "-" if request is None else request_id(request)
        return True
