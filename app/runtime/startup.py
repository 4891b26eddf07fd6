"""Start-up failures an operator can fix, said in one line that names what to change.

A closed port or a missing database would otherwise end start-up with a long traceback
ending in `ConnectionRefusedError` that never names DATABASE_URL. Here the known causes
become a `StartupError` whose message is the whole story; `python -m app` and the
server print it as one line and exit with `EXIT_CONFIGURATION` (2), the same code as for
a setting that does not validate.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import NoReturn

from app.settings import Settings

EXIT_CONFIGURATION = 2
"""The exit code of every start-up failure the operator must fix (settings included)."""


class StartupError(Exception):
    """Start-up cannot go on; the message names the setting and the fix."""


def stop_starting(error: StartupError) -> NoReturn:
    """In the server's main process: the one line, then exit EXIT_CONFIGURATION.

    SystemExit, which Sanic lets through with its code (after one line of its own, and
    after stopping its worker-state manager: `os._exit` would orphan that process)."""
    sys.stderr.write(f"onramp: refusing to start: {error}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_CONFIGURATION)


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def is_connection_failure(error: BaseException) -> bool:
    """Whether `error` came from reaching the database, not from what was asked of it."""
    import asyncpg

    from app.runtime.outages import outage_kind

    cause = _root(error)
    return outage_kind(error) is not None or isinstance(
        cause, asyncpg.InvalidAuthorizationSpecificationError | OSError
    )


def is_missing_schema(error: BaseException) -> bool:
    """Whether `error` says a table does not exist: the database was never migrated."""
    import asyncpg

    cause = _root(error)
    return isinstance(cause, asyncpg.UndefinedTableError) or "no such table" in str(cause)


def unmigrated(settings: Settings) -> StartupError:
    return StartupError(
        f"the database at DATABASE_URL={redacted(settings.DATABASE_URL)} has no tables yet: "
        "run `python -m app migrate` first"
    )


def database_failure(error: BaseException, settings: Settings) -> StartupError:
    """What went wrong reaching DATABASE_URL, as one line with the fix."""
    import asyncpg

    url = f"DATABASE_URL={redacted(settings.DATABASE_URL)}"
    cause = _root(error)
    if isinstance(cause, asyncpg.InvalidCatalogNameError):
        name = settings.DATABASE_URL.rsplit("/", 1)[-1].split("?", 1)[0]
        return StartupError(
            f"the database {name!r} does not exist ({url}): create it (createdb {name}) "
            "or point DATABASE_URL at one that does"
        )
    if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
        return StartupError(
            f"the database refused the user and password ({url}): {cause}; "
            "fix the credentials in DATABASE_URL"
        )
    if isinstance(cause, TimeoutError):
        return StartupError(
            f"cannot reach the database ({url}): no answer within "
            f"DB_CONNECT_TIMEOUT={settings.DB_CONNECT_TIMEOUT:g}s; check the host and port"
        )
    if isinstance(cause, OSError):
        return StartupError(
            f"cannot reach the database ({url}): "
            f"{os.strerror(cause.errno) if cause.errno else cause}; "
            "start PostgreSQL, or point DATABASE_URL at a running one"
        )
    return StartupError(f"the database at {url} failed: {type(cause).__name__}: {cause}")


def _root(error: BaseException) -> BaseException:
    """The innermost cause (Tortoise wraps the driver's error)."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = error.__cause__ or error.__context__
        if inner is None:
            break
        error = inner
    return error


def check_outbox_dir(settings: Settings) -> None:
    """With the file email backend, OUTBOX_DIR must be a folder this process can write:
    otherwise every email fails, minutes later, through its retries."""
    if settings.SMTP_HOST:
        return
    folder = Path(settings.OUTBOX_DIR)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as error:
        raise StartupError(
            f"OUTBOX_DIR={folder} is not a writable folder ({error.strerror or error}): "
            "make it writable by this user, or set SMTP_HOST to send email by SMTP"
        ) from None


def check_port_free(host: str, port: int) -> None:
    """The address the server is about to listen on is not taken by another process.
    (Sanic finds out too, later, after the migrations, and exits 1 with three lines.)"""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Sanic binds
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                return  # not ours to judge (Sanic reports it)
            raise StartupError(
                f"{host}:{port} is already in use: stop what listens there, or choose "
                f"another port (sanic ... --port N; make run PORT=N)"
            ) from None


def outbox_dir_writable(settings: Settings) -> bool:
    """For `/ready`: the file email backend can still write there, or create the folder
    (stat calls only, no write)."""
    if settings.SMTP_HOST:
        return True
    folder = Path(settings.OUTBOX_DIR).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the transport creates what is missing
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
