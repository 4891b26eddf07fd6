"""Operator commands: `python -m app migrate`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from app.runtime.migrations import migrate
from app.settings import DOTENV_FILE, SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending database migrations, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    try:
        settings = load_settings(os.environ, dotenv=Path(DOTENV_FILE))
    except SettingsError as error:
        print(f"onramp: {error}", file=sys.stderr)  # noqa: T201
        return 2
    if args.command == "migrate":
        # A separate one-shot process, not the server: it owns its loop for the
        # duration of the command and closes it (the server never runs this path).
        with asyncio.Runner() as runner:
            runner.run(migrate(settings))
    return 0
