"""`python -m app <command>`: the operator commands (see `app.cli`)."""

from app.cli import main

raise SystemExit(main())
