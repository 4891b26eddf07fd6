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
        response = self._raw(method, path, headers=headers, **kwargs)
        if check_contract and self.contract is not None:
            self.contract.check(response)
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

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop (e.g. a service call or a DB check)."""
        return self.loop.run_until_complete(coro)
