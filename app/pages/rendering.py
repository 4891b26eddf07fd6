"""The pages' templates, rendered with Jinja2 (HTML escaped).

Jinja2 directly rather than sanic-ext's templating extension: that one needs sanic-ext
set up in every process (about 0.1 s of each start) for five small templates, which
use nothing of it (no `url_for`, no request in the context). The environment is what
sanic-ext made: the templates folder, autoescaping by file name (`.html`), and it is
made at the first page a worker renders, so a process that shows no page never loads
Jinja2.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sanic.response import HTTPResponse

from app.pages import TEMPLATES

if TYPE_CHECKING:
    from jinja2 import Environment

HTML = "text/html; charset=utf-8"


@cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())


def render(
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    context: dict[str, Any] | None = None,
) -> HTTPResponse:
    """The page `template` with `context`, as an HTML response."""
    text = environment().get_template(template).render(**(context or {}))
    return HTTPResponse(text, status=status, headers=headers, content_type=HTML)
