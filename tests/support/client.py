"""One in-process server per test, reused for all of that test's requests.

`ReusableClient` runs the server listeners once (start and stop), unlike
`app.test_client`, which runs them around every request. Requests go over real HTTP
on loopback. `gather_request` stays off: it adds a middleware to every route per
request and never removes it there.

Every response is checked against the app's own OpenAPI document when the app serves
one (`tests.support.contract`); `check_contract=False` is for requests that are wrong
on purpose at the HTTP level in a way no document describes.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import httpx
from sanic import Sanic
from sanic.application.constants import ServerStage
from sanic_testing.reusable import ReusableClient

from tests.support import secrets
from tests.support.contract import ResponseContract
from tests.support.net import free_port

__all__ = ["ApiClient", "free_port"]


class ApiClient:
    """Started in `__enter__`, stopped (listeners, sockets, loop) in `__exit__`."""

    def __init__(self, app: Sanic) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._client = ReusableClient(app, host="127.0.0.1", port=free_port(), loop=self.loop)
        self.token: str | None = None
        self._contract: ResponseContract | None = None
        self._contract_loaded = False
        self.secrets: set[str] = set()

    def _set_stage(self, stage: ServerStage) -> None:
        # Sanic marks a server SERVING only in its own runner; `create_server`, which
        # ReusableClient uses, never does, and then `app.loop`/`app.add_task` refuse.
        for info in self.app.state.server_info:
            info.stage = stage

    def __enter__(self) -> ApiClient:
        self._set_stage(ServerStage.SERVING)
        self._client.run()
        return self

    def __exit__(self, *_: object) -> None:
        try:
            if self.secrets and self.app.ctx.started:
                self._assert_no_secret_in_audit_log()
        finally:
            self._stop()

    def _assert_no_secret_in_audit_log(self) -> None:
        from app.audit.models import AuditEvent

        events = self.run(AuditEvent.all().values())
        assert secrets.leaked(events, self.secrets) == [], "a secret reached the audit log"

    def _stop(self) -> None:
        try:
            self._client.stop()
        finally:
            self._set_stage(ServerStage.STOPPED)
            asyncio.set_event_loop(None)
            self.loop.close()

    def _raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        _, response = self._client._sanic_endpoint_test(
            method, path, gather_request=False, **kwargs
        )
        assert response is not None
        response.__class__ = httpx.Response  # plain httpx semantics: .json() is a method
        return response

    @property
    def contract(self) -> ResponseContract | None:
        """The app's OpenAPI document as a checker (None when the app serves none)."""
        if not self._contract_loaded:
            self._contract_loaded = True
            document = self._raw("get", "/docs/openapi.json")
            if document.status_code == 200:
                self._contract = ResponseContract(document.json())
        return self._contract

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        token = kwargs.pop("token", self.token)
        check_contract = kwargs.pop("check_contract", True)
        if token:
            headers.setdefault("Authorization", f"Bearer {token}")
        secrets.collect(kwargs.get("json"), self.secrets)
        secrets.collect(kwargs.get("params"), self.secrets)
        response = self._raw(method, path, headers=headers, **kwargs)
        if check_contract and self.contract is not None:
            self.contract.check(response)
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if is_json and response.content:
            found: set[str] = set()
            secrets.collect(response.json(), found)
            self.secrets |= found
            if found:  # every answer that carries a token tells caches not to keep it
                assert response.headers.get("Cache-Control") == "no-store", (method, path)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("get", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("post", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("patch", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("delete", path, **kwargs)

    def wait_until(self, predicate: Any, timeout: float = 20.0) -> None:
        """Let the server's loop (and its background jobs) run until `predicate()` holds.

        Between requests the in-process server's loop is idle; background jobs only make
        progress while something runs on it.
        """

        async def holds() -> bool:
            result = predicate()
            return bool(await result) if inspect.isawaitable(result) else bool(result)

        async def poll() -> None:
            deadline = self.loop.time() + timeout
            while not await holds():
                if self.loop.time() > deadline:
                    raise TimeoutError(f"condition not met within {timeout}s")
                await asyncio.sleep(0.02)

        self.loop.run_until_complete(poll())

    def concurrently(self, *requests: tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
        """Send these requests at the same time, over real HTTP, and wait for all."""

        async def send_all() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
                return list(
                    await asyncio.gather(
                        *(
                            client.request(method, path, **kwargs)
                            for method, path, kwargs in requests
                        )
                    )
                )

        return self.loop.run_until_complete(send_all())

    def clear_cookies(self) -> None:
        """sanic-testing keeps one HTTP session, so cookies persist like a browser's."""
        session = self._client._session
        if session is not None:
            session.cookies.clear()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._client.port}"

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop (e.g. a service call or a DB check)."""
        return self.loop.run_until_complete(coro)
