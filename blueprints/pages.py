"""Pages for people: accept an invitation (`/invite`), choose a new password (`/reset`),
confirm (or release) an address (`/verify`).

The links in our emails lead here. Each page posts back to itself and calls the same
service function as the API (`invitations.accept`, `accounts.confirm_reset`,
`accounts.verify`/`release_address`): one implementation of each step. Opening a link
changes nothing (mail scanners open links too); only the person's POST does.
Server-rendered (Jinja2, escaped), no JavaScript, one stylesheet from this app,
CSRF-protected, strict headers (`app.pages.security`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic
from sanic import Blueprint
from sanic.response import HTTPResponse

from app.accounts.schemas import PasswordResetConfirmIn, VerifyIn
from app.errors import Conflict, DomainError, Forbidden, Gone, Invalid, Throttled, Unauthenticated
from app.http import docs
from app.http.auth import client_ip
from app.http.errors import status_of, validation_details
from app.http.request import OnrampRequest, context_of, media_type
from app.invitations.schemas import AcceptIn
from app.pages import STATIC
from app.pages.rendering import render
from app.pages.security import FIELD, HEADERS, Csrf

bp = Blueprint("pages")
# Pages for people, not part of the JSON API: each route is excluded from the OpenAPI
# document (`docs.excluded`).

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
SEND_FROM_PAGE = "Send the form from its page."


async def _posted_form(request: OnrampRequest) -> Mapping[str, Any] | HTTPResponse:
    """The fields of a form one of these pages posted, or the page to answer instead:
    415 for a body that is no URL-encoded form (the pages upload no files; asked to
    parse a malformed multipart body, Sanic logs a traceback at error level, one per
    request a stranger chooses to send), 403 without the form's CSRF pair."""
    if media_type(request.content_type) != FORM_MEDIA_TYPE:
        return await _message(request, 415, "Please try again", SEND_FROM_PAGE)
    form: Mapping[str, Any] = request.form or {}
    if not _csrf(request).valid(request, form.get(FIELD)):
        return await _message(request, 403, "Please try again", EXPIRED_FORM)
    return form


bp.static("/static", STATIC, name="static")

EXPIRED_FORM = "This form has expired. Open the link from your email again."


def _csrf(request: OnrampRequest) -> Csrf:
    settings = context_of(request).settings
    return Csrf(settings.SECRET_KEY.get_secret_value(), settings.PUBLIC_BASE_URL)


async def _page(
    request: OnrampRequest,
    template: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTTPResponse:
    return render(template, status=status, headers={**HEADERS, **(headers or {})}, context=context)


async def _message(
    request: OnrampRequest, status: int, heading: str, *paragraphs: str, **headers: str
) -> HTTPResponse:
    return await _page(
        request, "message.html", status, headers, heading=heading, paragraphs=paragraphs
    )


async def _form(request: OnrampRequest, template: str, status: int, **context: Any) -> HTTPResponse:
    """A form page with a fresh CSRF cookie and field."""
    csrf = _csrf(request)
    cookie, field = csrf.new()
    settings = context_of(request).settings
    response = await _page(
        request,
        template,
        status,
        csrf=field,
        password_min=settings.PASSWORD_MIN_LENGTH,
        **context,
    )
    csrf.issue(response, cookie)
    return response


def _messages(error: DomainError) -> list[str]:
    """What a person reads: each field's problem in plain words."""
    labels = {
        "password": "Password",
        "new_password": "Password",
        "full_name": "Full name",
        "token": "Link",
    }
    if not error.details:
        return [error.message]
    return [
        f"{labels.get(str(d.get('field')), 'This form')}: {d.get('message')}" for d in error.details
    ]


async def _unusable(request: OnrampRequest, what: str) -> HTTPResponse:
    return await _message(
        request,
        410,
        f"This {what} link can no longer be used",
        "It was already used, it expired, or a newer one replaced it.",
        "Ask for a new one, or sign in if you already did what it was for.",
    )


async def _throttled(request: OnrampRequest, error: Throttled) -> HTTPResponse:
    return await _message(
        request,
        429,
        "Too many attempts",
        f"Wait {error.retry_after} seconds, then try again.",
        **{"Retry-After": str(error.retry_after)},
    )


# --- /invite --------------------------------------------------------------------------


async def _invite_form(
    request: OnrampRequest, token: str, *, errors: list[str] | None = None, full_name: str = "",
    status: int = 200,
) -> HTTPResponse:  # fmt: skip
    invitation = await context_of(request).acceptance.lookup(token)
    return await _form(
        request,
        "invite.html",
        status,
        invitation=invitation,
        token=token,
        errors=errors or [],
        full_name=full_name,
    )


@bp.get("/invite")
@docs.excluded
async def invite_page(request: OnrampRequest) -> HTTPResponse:
    token = request.args.get("token", "")
    if not token:
        return await _message(
            request, 404, "No invitation here", "Open the link from your invitation email."
        )
    return await _invite_form(request, token)


@bp.post("/invite")
@docs.excluded
async def accept_invitation(request: OnrampRequest) -> HTTPResponse:
    form = await _posted_form(request)
    if isinstance(form, HTTPResponse):
        return form
    token = str(form.get("token") or "")
    full_name = (form.get("full_name") or "").strip()
    password = form.get("password") or ""
    confirm = form.get("password_confirm")
    if confirm is not None and confirm != password:
        return await _invite_form(
            request,
            token,
            errors=["Confirm password: the two passwords differ"],
            full_name=full_name,
            status=422,
        )
    body = AcceptIn(token=token, full_name=full_name or None, password=password or None)
    accepted = await context_of(request).acceptance.accept(body, None, client_ip(request))
    organization = accepted["organization"]["name"]
    return await _message(
        request,
        200,
        f"Welcome to {organization}",
        f"You have joined {organization} on Onramp as {accepted['user']['email']}.",
        "Sign in to Onramp with this email address and your password.",
    )


# --- /reset ---------------------------------------------------------------------------


async def _reset_form(
    request: OnrampRequest, token: str, *, errors: list[str] | None = None, status: int = 200
) -> HTTPResponse:
    await context_of(request).accounts.check_reset_token(token)
    return await _form(request, "reset.html", status, token=token, errors=errors or [])


@bp.get("/reset")
@docs.excluded
async def reset_page(request: OnrampRequest) -> HTTPResponse:
    token = request.args.get("token", "")
    if not token:
        return await _message(
            request, 404, "No password reset here", "Open the link from your email."
        )
    return await _reset_form(request, token)


@bp.post("/reset")
@docs.excluded
async def reset_password(request: OnrampRequest) -> HTTPResponse:
    form = await _posted_form(request)
    if isinstance(form, HTTPResponse):
        return form
    token = str(form.get("token") or "")
    password = form.get("password") or ""
    if form.get("password_confirm") != password:
        return await _reset_form(
            request, token, errors=["Confirm password: the two passwords differ"], status=422
        )
    body = PasswordResetConfirmIn(token=token, new_password=password)
    await context_of(request).accounts.confirm_reset(body)
    return await _message(
        request,
        200,
        "Your password is changed",
        "Sign in to Onramp with your new password. You were signed out everywhere else.",
    )


# --- /verify --------------------------------------------------------------------------


@bp.get("/verify")
@docs.excluded
async def verify_page(request: OnrampRequest) -> HTTPResponse:
    token = request.args.get("token", "")
    if not token:
        return await _message(
            request, 404, "Nothing to confirm here", "Open the link from your email."
        )
    user = await context_of(request).accounts.pending_verification(token)
    return await _form(request, "verify.html", 200, token=token, user=user)


@bp.post("/verify")
@docs.excluded
async def verify_address(request: OnrampRequest) -> HTTPResponse:
    form = await _posted_form(request)
    if isinstance(form, HTTPResponse):
        return form
    release = form.get("choice") == "release"
    accounts = context_of(request).accounts
    body = VerifyIn(token=str(form.get("token") or ""), release=release)
    if body.release:
        await accounts.release_address(body.token)
    else:
        await accounts.verify(body.token)
    if release:
        return await _message(
            request,
            200,
            "The address is released",
            "The account that used it cannot sign in with it any more.",
            "You can now sign up to Onramp with this address, or accept an invitation sent to it.",
        )
    return await _message(
        request,
        200,
        "Your address is confirmed",
        "Thank you. Your organisation can now send invitations.",
    )


# --- errors ---------------------------------------------------------------------------
# What the services raise, answered as pages: the status from the API's table
# (`app.http.errors.STATUS_OF`), the words for a person. Sanic runs these for this
# blueprint's routes only; everything else still leaves as the JSON envelope.

_LINKS = {"/invite": "invitation", "/reset": "password reset", "/verify": "confirmation"}
"""What each page's link is called in its messages."""

_CANNOT = {"/invite": "This invitation cannot be accepted"}


def _posted_field(request: OnrampRequest, name: str) -> str:
    form = request.form if request.method == "POST" else None
    return str((form.get(name) if form is not None else None) or "").strip()


async def _form_again(request: OnrampRequest, messages: list[str], status: int) -> HTTPResponse:
    """The page's form once more, with what went wrong beside it."""
    token = _posted_field(request, "token")
    if request.path == "/invite":
        return await _invite_form(
            request,
            token,
            errors=messages,
            full_name=_posted_field(request, "full_name"),
            status=status,
        )
    return await _reset_form(request, token, errors=messages, status=status)


async def _gone(request: OnrampRequest, error: Gone) -> HTTPResponse:
    return await _unusable(request, _LINKS.get(request.path, "page"))


async def _not_valid(request: OnrampRequest, error: pydantic.ValidationError) -> HTTPResponse:
    """A token that cannot be one is a link that cannot be used; a field of a form
    that did not validate is shown beside the form."""
    details = validation_details(error)
    if request.method != "POST" or any(d["field"] == "token" for d in details):
        return await _unusable(request, _LINKS.get(request.path, "page"))
    if request.path == "/verify":
        return await _unusable(request, "confirmation")
    return await _form_again(request, _messages(Invalid(details=details)), 422)


async def _invalid(request: OnrampRequest, error: Invalid) -> HTTPResponse:
    return await _form_again(request, _messages(error), status_of(error))


async def _wrong_password(request: OnrampRequest, error: Unauthenticated) -> HTTPResponse:
    message = "Password: this is not the password of the account with this address"
    return await _form_again(request, [message], status_of(error))


async def _too_often(request: OnrampRequest, error: Throttled) -> HTTPResponse:
    return await _throttled(request, error)


async def _refused(request: OnrampRequest, error: Conflict | Forbidden) -> HTTPResponse:
    heading = _CANNOT.get(request.path, "This cannot be done")
    return await _message(request, status_of(error), heading, error.message)


# (Sanic's `exception` decorator is untyped: registered by a call, the handlers stay typed.)
bp.exception(Gone)(_gone)
bp.exception(pydantic.ValidationError)(_not_valid)
bp.exception(Invalid)(_invalid)
bp.exception(Unauthenticated)(_wrong_password)
bp.exception(Throttled)(_too_often)
bp.exception(Conflict, Forbidden)(_refused)
