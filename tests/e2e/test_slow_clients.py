"""Clients that cannot hold the server: the real `sanic` CLI, one worker whose file
descriptors are limited as `LimitNOFILE` would, and raw sockets over loopback.

- Hundreds of connections that send a request head one byte at a time (slowloris),
  more than the worker has descriptors for, reconnecting whenever they are cut off:
  each is answered 408 and closed once its head is `REQUEST_TIMEOUT` old, and a normal
  client, with a new connection per request, is served all along.
- Uploads that stall or trickle (chunked and with a length): 408 once the body is
  `REQUEST_BODY_TIMEOUT` old, the socket closed, and the worker's descriptors back to
  where they were.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support import databases
from tests.support.server import WITHOUT_DOCS, ServerProcess
from tests.support.timing import deadline

pytestmark = pytest.mark.any_backend  # how connections are read is no database matter
# The deadlines are measured alone on the machine, after the parallel tests, and
# asserted with `deadline`'s margin.
measures_deadlines = pytest.mark.serial

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
# Sanic checks deadlines every half of its smallest timeout: a connection is cut at most
# that long after its deadline.
CHECK_INTERVAL = 0.5 * min(HEAD_TIMEOUT, BODY_TIMEOUT)
FD_LIMIT = 256
NEW_SLOW_CONNECTIONS_PER_SECOND = 60
ATTACK_SECONDS = 8.0


def slow_client_env(database_url: str) -> dict[str, str]:
    return {
        "APP_ENV": "testing",
        **WITHOUT_DOCS,
        "DATABASE_URL": database_url,
        "MIGRATE_ON_START": "true",
        "REQUEST_TIMEOUT": str(HEAD_TIMEOUT),
        "REQUEST_BODY_TIMEOUT": str(BODY_TIMEOUT),
        "KEEP_ALIVE_TIMEOUT": "2",
        "RESPONSE_TIMEOUT": "30",
    }


@dataclass
class SlowConnection:
    opened: float
    closed: float | None = None
    answer: bytes = b""


async def slowloris(port: int, until: float) -> SlowConnection | None:
    """One attacker's connection: a request head, one byte every 0.2 s, for as long as
    the server lets it (or until the attack ends)."""
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 2_000
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    connection = SlowConnection(opened=time.monotonic())
    try:
        for byte in head:
            if time.monotonic() >= until:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                connection.answer += await asyncio.wait_for(reader.read(4096), 0.2)
            except TimeoutError:
                continue
            # Answered (408) or closed: read to the end, which the server must reach.
            while chunk := await asyncio.wait_for(reader.read(4096), 5):
                connection.answer += chunk
            connection.closed = time.monotonic()
            break
    except (ConnectionError, TimeoutError):
        connection.closed = time.monotonic()
    finally:
        writer.close()
    return connection


async def attack(port: int, until: float) -> list[SlowConnection | None]:
    """New slow connections at a steady rate: without deadlines they pile up until the
    worker runs out of descriptors (then libuv closes every new connection at once,
    normal clients' included)."""
    started: list[asyncio.Task[SlowConnection | None]] = []
    while time.monotonic() < until:
        started.append(asyncio.create_task(slowloris(port, until)))
        await asyncio.sleep(1 / NEW_SLOW_CONNECTIONS_PER_SECOND)
    return await asyncio.gather(*started)


async def normal_client(url: str, until: float) -> list[tuple[int, float]]:
    """A well-behaved client, one new connection per request (each needs a descriptor
    of the worker, like the attackers' connections)."""
    answers: list[tuple[int, float]] = []
    while time.monotonic() < until:
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=15) as client:
            response = await client.get(f"{url}/health")
        answers.append((response.status_code, time.monotonic() - started))
        await asyncio.sleep(0.1)
    return answers


@measures_deadlines
def test_slow_heads_are_cut_off_and_normal_clients_served(
    e2e_database_url: str, tmp_path: Path
) -> None:
    with ServerProcess(
        slow_client_env(e2e_database_url),
        workers=1,
        log_path=tmp_path / "server.log",
        fd_limit=FD_LIMIT,
    ) as server:
        server.wait_ready()
        (worker,) = server.worker_processes()
        most_fds = worker.num_fds()

        async def run() -> tuple[list[SlowConnection | None], list[tuple[int, float]], int]:
            nonlocal most_fds
            until = time.monotonic() + ATTACK_SECONDS

            async def watch_fds() -> None:
                nonlocal most_fds
                while time.monotonic() < until:
                    most_fds = max(most_fds, worker.num_fds())
                    await asyncio.sleep(0.1)

            slow, answers, _ = await asyncio.gather(
                attack(server.port, until), normal_client(server.url, until), watch_fds()
            )
            return slow, answers, most_fds

        slow, answers, most_fds = databases.run(run())
        served_after = server.client.get("/health", timeout=5).status_code
        output = server.output()

    connections = [c for c in slow if c is not None]
    statuses = [status for status, _ in answers]
    latencies = sorted(seconds for _, seconds in answers)
    cut = [c for c in connections if c.closed is not None]
    lives = sorted(c.closed - c.opened for c in cut if c.closed is not None)
    # Opened early enough for its deadline to pass before the attack ended: each of
    # these must have been cut off by the server.
    until = max(c.opened for c in connections)
    early = [c for c in connections if c.opened < until - deadline(HEAD_TIMEOUT + CHECK_INTERVAL)]
    print(  # noqa: T201 (the figures the closing note quotes; shown with -s or on failure)
        f"slowloris: {len(connections)} slow connections over {ATTACK_SECONDS:.0f}s "
        f"({NEW_SLOW_CONNECTIONS_PER_SECOND}/s, fd limit {FD_LIMIT}, most fds in use "
        f"{most_fds}), {len(cut)} cut off with 408, life median "
        f"{statistics.median(lives):.2f}s max {lives[-1]:.2f}s; normal client "
        f"{len(answers)} requests, latency median {statistics.median(latencies) * 1000:.0f} ms "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    assert len(connections) == len(slow), "a slow connection was refused"
    assert statuses
    assert set(statuses) == {200}, statuses
    assert latencies[-1] < deadline(HEAD_TIMEOUT), latencies  # never behind a slow head
    assert served_after == 200
    assert all(c.closed is not None for c in early), sum(c.closed is None for c in early)
    assert lives[-1] < deadline(HEAD_TIMEOUT + CHECK_INTERVAL), lives[-5:]
    assert all(c.answer.startswith(b"HTTP/1.1 408 ") for c in cut), {
        c.answer[:40] for c in cut if not c.answer.startswith(b"HTTP/1.1 408 ")
    }
    assert b'"code":"request_timeout"' in cut[0].answer
    assert "Traceback" not in output


async def upload(
    port: int, head: bytes, body_parts: list[bytes], pause: float
) -> tuple[float, bytes, bool]:
    """Send `head`, then each part `pause` seconds apart (stalling after the last);
    returns when the answer came, the answer, and whether the server closed the socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(head)
    answer = b""
    try:
        for part in body_parts:
            writer.write(part)
            await writer.drain()
            try:
                answer += await asyncio.wait_for(reader.read(4096), pause)
                break
            except TimeoutError:
                continue
        if not answer:
            answer = await asyncio.wait_for(reader.read(4096), 10)
        answered = time.monotonic() - started
        rest = await asyncio.wait_for(reader.read(), 5)  # b"" once the server closed it
        return answered, answer + rest, True
    except TimeoutError:
        return time.monotonic() - started, answer, False
    finally:
        writer.close()


def login_head(framing: bytes) -> bytes:
    return (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\n" + framing + b"\r\n"
    )


CHUNKED = login_head(b"Transfer-Encoding: chunked\r\n")
WITH_LENGTH = login_head(b"Content-Length: 100\r\n")


@pytest.fixture(scope="module")
def upload_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, psutil.Process]]:
    """One server and its one worker for the upload tests, which each count the worker's
    descriptors before and after their own uploads."""
    log_path = tmp_path_factory.mktemp("uploads") / "server.log"
    with ServerProcess(
        slow_client_env(module_database_url), workers=1, log_path=log_path
    ) as server:
        server.wait_ready()
        # One observed request first: the metrics' files open with the first one (the
        # probes of wait_ready are not observed).
        assert server.client.get("/nope", timeout=5).status_code == 404
        (worker,) = server.worker_processes()
        yield server, worker


@measures_deadlines
@pytest.mark.parametrize(
    ("head", "parts", "pause"),
    [
        pytest.param(CHUNKED, [b'2\r\n{"\r\n'], 0.2, id="chunked-stalled"),
        pytest.param(CHUNKED, [b"1\r\n \r\n"] * 40, 0.2, id="chunked-trickling"),
        pytest.param(WITH_LENGTH, [b'{"email"'], 0.2, id="length-stalled"),
        pytest.param(WITH_LENGTH, [b" "] * 40, 0.2, id="length-trickling"),
    ],
)
def test_stalled_and_trickling_uploads_get_408_and_a_closed_socket(
    upload_server: tuple[ServerProcess, psutil.Process],
    head: bytes,
    parts: list[bytes],
    pause: float,
) -> None:
    server, worker = upload_server
    fds_before = worker.num_fds()
    output_before = len(server.output())

    async def run() -> list[tuple[float, bytes, bool]]:
        return await asyncio.gather(*(upload(server.port, head, parts, pause) for _ in range(100)))

    results = databases.run(run())
    fds_after = _settled_fds(worker, fds_before)
    output = server.output()[output_before:]

    answered = sorted(seconds for seconds, _, _ in results)
    print(  # noqa: T201
        f"100 uploads: 408 after median {statistics.median(answered):.2f}s, "
        f"max {answered[-1]:.2f}s; worker fds {fds_before} before, {fds_after} after"
    )
    for seconds, answer, closed in results:
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b'"code":"request_timeout"' in answer
        assert closed, "the server left the socket open"
        assert BODY_TIMEOUT <= seconds < deadline(BODY_TIMEOUT + CHECK_INTERVAL), seconds
    assert fds_after <= fds_before
    assert "Traceback" not in output


def _settled_fds(worker: psutil.Process, target: int, timeout: float = 5.0) -> int:
    """The worker's descriptor count once it is back at `target` (or after `timeout`)."""
    deadline = time.monotonic() + timeout
    count = worker.num_fds()
    while count > target and time.monotonic() < deadline:
        time.sleep(0.1)
        count = worker.num_fds()
    return count


def test_a_head_too_large_is_a_bad_request_and_a_body_too_large_is_413(
    e2e_database_url: str, tmp_path: Path
) -> None:
    """Sanic answers a head over its limit 413, a status about bodies that no client of a
    GET expects (app.compat.request_limits)."""
    env = {**slow_client_env(e2e_database_url), "REQUEST_MAX_SIZE": "1000"}
    with ServerProcess(env, workers=1, log_path=tmp_path / "server.log") as server:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            long_url = client.get("/api/v1/vendors", params={"q": "x" * 20_000})
            big_header = client.get("/health", headers={"X-Big": "y" * 20_000})
            big_body = client.post(
                "/api/v1/auth/login",
                content=b"{" + b" " * 2_000 + b"}",
                headers={"Content-Type": "application/json"},
            )
            normal = client.get("/health")
    for response in (long_url, big_header):
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "request_head_too_large"
    assert big_body.status_code == 413
    assert big_body.json()["error"]["code"] == "payload_too_large"
    assert normal.status_code == 200
