"""The pieces behind one-line start-up failures and the workers' protocol, in process
(`tests/e2e/test_startup_failures.py` and `tests/e2e/test_slow_clients.py` run them in
the real CLI, where this process's coverage cannot see them)."""

from __future__ import annotations

import asyncio
import pickle
import socket
from pathlib import Path
from time import monotonic
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from sanic.exceptions import RequestTimeout
from sanic.http import Stage
from sanic.server.protocols.http_protocol import HttpProtocol
from tortoise.exceptions import DBConnectionError

from app.compat.request_limits import LINGER, DeadlineHttp, RequestLimits
from app.lifecycle import compat as lifecycle_compat
from app.runtime import startup
from app.settings import Settings
from tests.conftest import make_app

pytestmark = pytest.mark.any_backend  # the database is incidental here


def wrapped(cause: BaseException) -> BaseException:
    """As Tortoise raises it: its own error, the driver's as the cause."""
    try:
        try:
            raise cause
        except BaseException as error:
            raise DBConnectionError("wrapped") from error
    except DBConnectionError as outer:
        return outer


@pytest.mark.parametrize(
    ("cause", "says"),
    [
        (asyncpg.InvalidCatalogNameError("no db"), "'onramp' does not exist"),
        (asyncpg.InvalidAuthorizationSpecificationError("no role"), "user and password"),
        (TimeoutError(), "no answer within DB_CONNECT_TIMEOUT=5s"),
        (ConnectionRefusedError(111, "x"), "Connection refused; start PostgreSQL"),
        (RuntimeError("odd"), "failed: RuntimeError: odd"),
    ],
)
def test_each_database_failure_is_one_line_naming_the_url(
    settings: Settings, cause: BaseException, says: str
) -> None:
    url = "postgres://onramp:secret@db.example.com:5432/onramp"
    error = startup.database_failure(wrapped(cause), settings.replace(DATABASE_URL=url))
    assert says in str(error)
    assert "postgres://***@db.example.com:5432/onramp" in str(error)
    assert "secret" not in str(error)
    assert "\n" not in str(error)


def test_what_counts_as_reaching_the_database_failing() -> None:
    assert startup.is_connection_failure(wrapped(ConnectionRefusedError(111, "x")))
    assert startup.is_connection_failure(wrapped(asyncpg.InvalidAuthorizationSpecificationError()))
    assert not startup.is_connection_failure(ValueError("a bug"))
    assert startup.is_missing_schema(wrapped(RuntimeError("no such table: users")))
    assert startup.is_missing_schema(asyncpg.UndefinedTableError("users"))
    assert not startup.is_missing_schema(ValueError("a bug"))


def test_a_port_in_use_is_found_and_a_free_one_passes() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(startup.StartupError, match=f"127.0.0.1:{port} is already in use"):
            startup.check_port_free("127.0.0.1", port)
    startup.check_port_free("127.0.0.1", port)  # closed again: free
    startup.check_port_free("192.0.2.1", 80)  # not ours to judge (cannot bind): Sanic says


def test_the_outbox_folder_checks(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    bad = settings.replace(SMTP_HOST="", OUTBOX_DIR=str(blocker / "mail"))
    with pytest.raises(startup.StartupError, match="OUTBOX_DIR="):
        startup.check_outbox_dir(bad)
    assert not startup.outbox_dir_writable(bad)
    startup.check_outbox_dir(bad.replace(SMTP_HOST="smtp.example.com"))  # not used: fine
    assert startup.outbox_dir_writable(bad.replace(SMTP_HOST="smtp.example.com"))
    good = settings.replace(SMTP_HOST="", OUTBOX_DIR=str(tmp_path / "new" / "mail"))
    assert startup.outbox_dir_writable(good)  # missing, but can be made
    startup.check_outbox_dir(good)
    assert (tmp_path / "new" / "mail").is_dir()


def test_stop_starting_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        startup.stop_starting(startup.StartupError("the reason"))
    assert stopped.value.code == startup.EXIT_CONFIGURATION == 2
    assert capsys.readouterr().err == "onramp: refusing to start: the reason\n"


def main_process_listener(app: Any, name: str) -> Any:
    (listener,) = [f for f in app.listeners["main_process_start"] if f.__name__ == name]
    return listener


def test_the_preflight_listener_stops_start_up(settings: Settings, tmp_path: Path) -> None:
    app = make_app(settings.replace(SMTP_HOST="", OUTBOX_DIR=str(tmp_path / "mail")))
    check = main_process_listener(app, "check_port_and_outbox_folder")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        info = SimpleNamespace(settings={"host": "127.0.0.1", "port": taken.getsockname()[1]})
        with pytest.raises(SystemExit):
            asyncio.run(check(SimpleNamespace(state=SimpleNamespace(server_info=[info]))))
    asyncio.run(check(SimpleNamespace(state=SimpleNamespace(server_info=[info]))))  # now free


def test_migrations_at_start_stop_start_up_when_the_database_is_unreachable(
    settings: Settings, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    app = make_app(
        settings.replace(
            MIGRATE_ON_START=True, DATABASE_URL=f"postgres://u@127.0.0.1:{port}/onramp"
        )
    )
    with pytest.raises(SystemExit):
        asyncio.run(main_process_listener(app, "apply_migrations")(app))


def test_the_workers_protocol_composes_the_workarounds_and_travels_pickled() -> None:
    mixins = ["graceful_shutdown", "request_limits"]
    protocol = lifecycle_compat.protocol_class(tuple(mixins))
    assert issubclass(protocol, HttpProtocol)
    assert pickle.loads(pickle.dumps(protocol)) is protocol  # noqa: S301 (workers are spawned)
    assert getattr(lifecycle_compat, protocol.__name__) is protocol
    with pytest.raises(AttributeError):
        lifecycle_compat.__getattr__("OnrampHttpProtocol__not_a_workaround")
    ours, theirs = (
        SimpleNamespace(settings={"protocol": HttpProtocol}),
        SimpleNamespace(settings={"protocol": object}),
    )
    lifecycle_compat.use_protocol([ours, theirs], mixins)
    assert ours.settings["protocol"] is protocol
    assert theirs.settings["protocol"] is object  # (a websocket protocol stays Sanic's)


class SanicSide:
    """What the mixin calls through to: records it."""

    def __init__(self) -> None:
        self.calls: list[object] = []

    def check_timeouts(self) -> None:
        self.calls.append("sanic checks")

    def data_received(self, data: bytes) -> None:
        self.calls.append(data)

    def close(self, timeout: float | None = None) -> None:
        self.calls.append("closed")


class Probe(RequestLimits, SanicSide):
    pass


def probe(stage: Stage, *, head_age: float = 0.0, body_age: float = 0.0, body: object = None):  # type: ignore[no-untyped-def]
    connection = Probe()
    http = object.__new__(DeadlineHttp)  # (no Sanic connection behind it)
    http.stage = stage
    http.request_body = body
    http.exception = None
    http.head_started = monotonic() - head_age
    http.body_started = monotonic() - body_age
    connection._http = http
    connection._task = SimpleNamespace(cancel=lambda: connection.calls.append("cancelled"))
    connection.request_timeout = 1.0
    connection.app = SimpleNamespace(config={"REQUEST_BODY_TIMEOUT": 1.0})
    connection.transport = SimpleNamespace(
        is_closing=lambda: False,
        can_write_eof=lambda: True,
        write_eof=lambda: connection.calls.append("eof"),
    )
    connection.loop = SimpleNamespace(
        call_later=lambda delay, *args: connection.calls.append(("later", delay))
    )
    return connection, http


@pytest.mark.parametrize(
    ("stage", "kwargs", "late"),
    [
        (Stage.REQUEST, {"head_age": 0.5}, False),
        (Stage.REQUEST, {"head_age": 1.5}, True),  # however recent its last byte
        (Stage.HANDLER, {"body_age": 1.5, "body": True}, True),  # a body still arriving
        (Stage.HANDLER, {"body_age": 1.5, "body": None}, False),  # the handler's own time
        (Stage.IDLE, {"head_age": 99}, False),
    ],
)
def test_deadlines_count_from_the_start_of_the_head_and_of_the_body(
    stage: Stage, kwargs: dict[str, Any], late: bool
) -> None:
    connection, http = probe(stage, **kwargs)
    connection.check_timeouts()
    if late:
        assert connection.calls == ["cancelled"]
        assert isinstance(http.exception, RequestTimeout)
        assert http.request_body is None  # the rest is never waited for
        connection.data_received(b"more")  # dropped
        connection.close()
        connection.close()
        assert connection.calls == ["cancelled", "eof", ("later", LINGER), "closed"]
    else:
        assert connection.calls == ["sanic checks"]
        connection.data_received(b"more")
        assert connection.calls[-1] == b"more"
