"""Accounts: signup, sessions (login, refresh, logout), who the caller is, passwords."""

from __future__ import annotations

from sanic import Blueprint
from sanic.response import HTTPResponse, empty

from app.accounts.roles import ANY_ROLE, Role
from app.accounts.schemas import (
    Accepted,
    LoginIn,
    LogoutIn,
    MeOut,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    SessionOut,
    SignupIn,
    SignupOut,
    VerifyIn,
)
from app.http import docs
from app.http.auth import authorized, client_ip, principal_of
from app.http.request import OnrampRequest, context_of
from app.http.responses import json
from app.http.security_headers import NO_STORE
from app.http.validation import validate_json

bp = Blueprint("auth", url_prefix="/api/v1")


@bp.post("/auth/signup")
@docs.links(201, "user_id", "change_role", "remove_member", value="$response.body#/user/id")
@docs.operation(
    summary="Create an account, its organisation and a session",
    tag="accounts",
    body=docs.body(SignupIn),
    response=[
        docs.ok(201, SignupOut, "Account, organisation and tokens"),
        *docs.errors(403, 409, 429, 503),
    ],
)
@validate_json(SignupIn)
async def signup(request: OnrampRequest, body: SignupIn) -> HTTPResponse:
    accounts = context_of(request).accounts
    created = await accounts.signup(body, client_ip(request))
    return json(created, status=201, headers=NO_STORE)


@bp.post("/auth/login")
@docs.operation(
    summary="Sign in: a session for one of your organisations",
    description="Without `organization_id`, the organisation used last.",
    tag="accounts",
    body=docs.body(LoginIn),
    response=[
        docs.ok(200, SessionOut, "The session"),
        *docs.errors(401, 403, 429, 503),
    ],
)
@validate_json(LoginIn)
async def login(request: OnrampRequest, body: LoginIn) -> HTTPResponse:
    answer = await context_of(request).accounts.login(body, client_ip(request))
    return json(answer, headers=NO_STORE)


@bp.post("/auth/refresh")
@docs.operation(
    summary="A new token pair for a refresh token (single use)",
    description="Role and membership are read afresh; `organization_id` switches to another "
    "of your organisations. A refresh token used twice revokes its whole session.",
    tag="accounts",
    body=docs.body(RefreshIn),
    response=[
        docs.ok(200, SessionOut, "The renewed session"),
        *docs.errors(401, 403, 503),
    ],
)
@validate_json(RefreshIn)
async def refresh(request: OnrampRequest, body: RefreshIn) -> HTTPResponse:
    return json(await context_of(request).accounts.refresh(body), headers=NO_STORE)


@bp.post("/auth/logout")
@docs.operation(
    summary="End a session (its refresh tokens are revoked)",
    tag="accounts",
    body=docs.body(LogoutIn),
    response=[docs.ok(204, None, "Signed out"), *docs.errors(503)],
)
@validate_json(LogoutIn)
async def logout(request: OnrampRequest, body: LogoutIn) -> HTTPResponse:
    await context_of(request).accounts.logout(body.refresh_token)
    return empty()


@bp.get("/me")
@docs.operation(
    summary="The caller, their organisation, role and other memberships",
    tag="accounts",
    secured=docs.BEARER,
    response=[docs.ok(200, MeOut, "The caller"), *docs.errors(404, 503)],
)
@authorized(ANY_ROLE)
async def me(request: OnrampRequest) -> HTTPResponse:
    context = context_of(request)
    principal = principal_of(request)
    answer = await context.accounts.me(principal)
    if principal.role is Role.VENDOR:
        answer["vendor_id"] = await context.vendors.contact_vendor_id(principal)
    return json(answer)


@bp.post("/auth/password")
@docs.operation(
    summary="Change your password (every session of yours ends)",
    tag="accounts",
    secured=docs.BEARER,
    body=docs.body(PasswordChangeIn),
    response=[
        docs.ok(204, None, "Changed"),
        *docs.errors(404, 429, 503),
    ],
)
@authorized(ANY_ROLE)
@validate_json(PasswordChangeIn)
async def change_password(request: OnrampRequest, body: PasswordChangeIn) -> HTTPResponse:
    accounts = context_of(request).accounts
    await accounts.change_password(principal_of(request), body, client_ip(request))
    return empty()


@bp.post("/auth/password-reset")
@docs.operation(
    summary="Email a password reset link (202 whatever the address)",
    tag="accounts",
    body=docs.body(PasswordResetIn),
    response=[
        docs.ok(202, Accepted, "If an account has this address, the email is on its way"),
        *docs.errors(429, 503),
    ],
)
@validate_json(PasswordResetIn)
async def request_password_reset(request: OnrampRequest, body: PasswordResetIn) -> HTTPResponse:
    message = await context_of(request).accounts.request_reset(body.email, client_ip(request))
    return json({"message": message}, status=202)


@bp.post("/auth/password-reset/confirm")
@docs.operation(
    summary="Choose a new password with the token from the email (every session ends)",
    tag="accounts",
    body=docs.body(PasswordResetConfirmIn),
    response=[docs.ok(204, None, "Changed"), *docs.errors(410, 503)],
)
@validate_json(PasswordResetConfirmIn)
async def confirm_password_reset(
    request: OnrampRequest, body: PasswordResetConfirmIn
) -> HTTPResponse:
    await context_of(request).accounts.confirm_reset(body)
    return empty()


@bp.post("/auth/verify")
@docs.operation(
    summary="Confirm an address with the token from the confirmation email",
    description="With `release: true` the owner of the mailbox, who never signed up, "
    "releases the address from the unconfirmed account that claimed it.",
    tag="accounts",
    body=docs.body(VerifyIn),
    response=[
        docs.ok(204, None, "Confirmed (or released)"),
        *docs.errors(410, 503),
    ],
)
@validate_json(VerifyIn)
async def verify_address(request: OnrampRequest, body: VerifyIn) -> HTTPResponse:
    accounts = context_of(request).accounts
    if body.release:
        await accounts.release_address(body.token)
    else:
        await accounts.verify(body.token)
    return empty()


@bp.post("/auth/verify/resend")
@docs.operation(
    summary="Send the confirmation email again",
    tag="accounts",
    secured=docs.BEARER,
    response=[
        docs.ok(202, Accepted, "Email queued"),
        *docs.errors(404, 409, 429, 503),
    ],
)
@authorized(ANY_ROLE)
async def resend_verification(request: OnrampRequest) -> HTTPResponse:
    await context_of(request).accounts.resend_verification(principal_of(request))
    return json({"message": "A confirmation email is on its way"}, status=202)
