"""The running request as the origin of a change (request id, client address).

Installed once per worker as `app.runtime.origin`'s request source; it runs only when
something is recorded, so requests that change nothing pay nothing for it.
"""

from __future__ import annotations

from app.http.auth import client_ip
from app.http.request import current_request
from app.http.request_id import request_id
from app.runtime.origin import Origin


def request_origin() -> Origin | None:
    request = current_request()
    if request is None:  # a script, a test calling a service
        return None
    return Origin(request_id=request_id(request), ip=client_ip(request))
