"""Operator commands: `python -m app <command>` (`--help` lists them).

Each runs as its own short process beside the server, on the same settings (environment,
`.env` in development), with its own database connection, closed before it exits.
Problems an operator fixes end with one line and exit code 2, like the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic

from app.errors import DomainError
from app.runtime.migrations import migrate, migration_status
from app.runtime.startup import EXIT_CONFIGURATION, StartupError
from app.settings import DOTENV_FILE, Settings, SettingsError, load_settings

PASSWORD_VARIABLE = "ONRAMP_OWNER_PASSWORD"  # noqa: S105 (a variable's name)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m app", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True, metavar="<command>")
    migration = commands.add_parser(
        "migrate", help="apply pending database migrations and say which (status: list them)"
    )
    migration.add_argument("action", nargs="?", choices=["apply", "status"], default="apply")
    owner = commands.add_parser(
        "create-owner",
        help="a first owner and organisation, without public signup "
        f"(password from {PASSWORD_VARIABLE}, else asked for)",
    )
    owner.add_argument("--email", required=True)
    owner.add_argument("--name", required=True, help="the owner's full name")
    owner.add_argument("--organization", required=True, help="the organisation's name")
    users = commands.add_parser("users", help="the accounts: `users list`")
    users.add_argument("action", choices=["list"])
    outbox = commands.add_parser(
        "outbox",
        help="the email queue: `outbox status` (counts, and why emails failed); "
        "`outbox requeue --failed [--since ISO-TIME]` (send failed ones again)",
    )
    outbox.add_argument("action", choices=["status", "requeue"])
    outbox.add_argument(
        "--failed", action="store_true", help="requeue: the emails that were given up"
    )
    outbox.add_argument(
        "--since",
        type=datetime.fromisoformat,
        help="requeue: only those queued at or after this time (e.g. 2026-11-30T09:00:00+00:00)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(os.environ, dotenv=Path(DOTENV_FILE))
        # A separate one-shot process, not the server: it owns its loop for the duration
        # of the command and closes it (the server never runs this path).
        with asyncio.Runner() as runner:
            return runner.run(COMMANDS[args.command](settings, args))
    except (SettingsError, StartupError) as error:
        print(f"onramp: {error}", file=sys.stderr)  # noqa: T201
        return EXIT_CONFIGURATION
    except DomainError as error:  # the rules said no (an address already taken, ...)
        problems = [f"{d.get('field')}: {d.get('message')}" for d in error.details]
        print(f"onramp: {'; '.join(problems) or error.message}", file=sys.stderr)  # noqa: T201
        return 1
    except pydantic.ValidationError as error:  # an argument that is no valid value
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        print(f"onramp: {'; '.join(problems)}", file=sys.stderr)  # noqa: T201
        return 1


async def migrate_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "status":
        applied, pending = await migration_status(settings)
        for name in applied:
            say(f"applied  {name}")
        for name in pending:
            say(f"pending  {name}")
        say(f"{len(applied)} applied, {len(pending)} pending")
        return 0
    applied = await migrate(settings)
    say(f"applied: {', '.join(applied)}" if applied else "nothing to apply: up to date")
    return 0


async def create_owner_command(settings: Settings, args: argparse.Namespace) -> int:
    from app.accounts.schemas import SignupIn

    password = os.environ.get(PASSWORD_VARIABLE) or getpass.getpass("Password: ")
    data = SignupIn(
        email=args.email,
        password=password,
        full_name=args.name,
        organization_name=args.organization,
    )
    async with services(settings) as context:
        created = await context.accounts.create_owner(data)
    say(
        f"owner {created['user']['email']} ({created['user']['id']}) of "
        f"{created['organization']['name']} ({created['organization']['id']}) created; "
        "the address counts as confirmed"
    )
    return 0


async def users_command(settings: Settings, args: argparse.Namespace) -> int:
    from app.accounts.models import Membership, User

    async with services(settings):
        users = await User.all().order_by("created_at")
        memberships = await Membership.all().prefetch_related("organization")
    roles: dict[Any, list[str]] = {}
    for membership in memberships:
        roles.setdefault(membership.user_id, []).append(
            f"{membership.organization.name}:{membership.role}"
        )
    for user in users:
        confirmed = "confirmed" if user.email_verified_at else "unconfirmed"
        say(f"{user.email}\t{confirmed}\t{', '.join(roles.get(user.id, [])) or '-'}")
    say(f"{len(users)} accounts")
    return 0


async def outbox_command(settings: Settings, args: argparse.Namespace) -> int:
    from app.mail.models import OutboxEmail, OutboxStatus

    if args.action == "requeue":
        return await requeue_command(settings, args)
    async with services(settings):
        counts = {
            status: await OutboxEmail.filter(status=status).count() for status in OutboxStatus
        }
        failed = await OutboxEmail.filter(status=OutboxStatus.FAILED).values_list(
            "last_error", flat=True
        )
    say("  ".join(f"{status.value}={count}" for status, count in counts.items()))
    reasons = Counter(str(reason or "unknown") for reason in failed)
    for why, count in reasons.most_common():
        say(f"failed {count}: {why}")
    return 0


async def requeue_command(settings: Settings, args: argparse.Namespace) -> int:
    """Failed email, sent again once its cause is fixed: confirmation and reset emails
    are retried as they are; an invitation gets a new token and a new email (its old
    token was erased when delivery was given up), as its owner's resend would."""
    if not args.failed:
        print("onramp: say which emails: --failed", file=sys.stderr)  # noqa: T201
        return EXIT_CONFIGURATION
    since = (
        args.since if args.since is None or args.since.tzinfo else args.since.replace(tzinfo=UTC)
    )
    async with services(settings) as context:
        accounts = await context.accounts.requeue_failed_emails(since)
        resent, skipped = await context.invitations.resend_failed(since)
    say(f"requeued: {accounts} account emails, {resent} invitations (new tokens)")
    if skipped:
        say(f"skipped: {skipped} invitations (another invitation for that person is open)")
    return 0


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]] = {
    "migrate": migrate_command,
    "create-owner": create_owner_command,
    "users": users_command,
    "outbox": outbox_command,
}


@asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[Any]:
    """The worker's services, without its background jobs, for one command: the
    database and the hashing pool opened here and closed on the way out."""
    from app.context import build_context
    from app.runtime import origin
    from app.runtime.startup import (
        database_failure,
        is_connection_failure,
        is_missing_schema,
        unmigrated,
    )

    context = build_context(settings, _no_background_jobs)
    origin.from_job("python -m app")  # what the audit log records as the actor
    await context.database.open()
    context.executor.open()
    try:
        yield context
    except Exception as error:
        if is_connection_failure(error):
            raise database_failure(error, settings) from error
        if is_missing_schema(error):
            raise unmigrated(settings) from error
        raise
    finally:
        context.executor.close()
        await context.database.close()


def _no_background_jobs(coro: Any, name: str) -> None:
    coro.close()
    raise RuntimeError(f"commands start no background jobs ({name})")


def say(line: str) -> None:
    print(line)  # noqa: T201 (a command's output)
