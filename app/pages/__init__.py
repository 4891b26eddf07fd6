"""The few HTML pages people open from our emails (`/invite`, `/reset`): templates,
stylesheet, and what every form needs (CSRF, strict headers). Served by
`blueprints.pages`; the work itself is the same service functions the API calls."""

from pathlib import Path

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
