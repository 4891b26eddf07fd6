"""Accounts: signup, login, and who the caller is."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from app.accounts.roles import ANY_ROLE, Role
from app.accounts.schemas import LoginIn, MeOut, SignupIn, SignupOut, TokenOut
from app.http import docs
from app.http.auth import authorized, principal_of
from app.http.types import context_of
from app.http.validation import validate_json

bp = Blueprint("auth", url_prefix="/api/v1")


@bp.post("/auth/signup")
@openapi.definition(
    summary="Create an account and its organisation",
    tag="accounts",
    body=docs.body(SignupIn),
    response=[
        docs.ok(201, SignupOut, "Account, organisation and access token"),
        *docs.errors(400, 409, 413, 415, 422, 503),
    ],
)
@validate_json(SignupIn)
async def signup(request: Request, body: SignupIn) -> HTTPResponse:
    return json(await context_of(request).accounts.signup(body), status=201)


@bp.post("/auth/login")
@openapi.definition(
    summary="Exchange email and password for an access token",
    tag="accounts",
    body=docs.body(LoginIn),
    response=[
        docs.ok(200, TokenOut, "Access token"),
        *docs.errors(400, 401, 413, 415, 422, 429, 503),
    ],
)
@validate_json(LoginIn)
async def login(request: Request, body: LoginIn) -> HTTPResponse:
    client_ip = request.remote_addr or request.ip
    return json(await context_of(request).accounts.login(body, client_ip))


@bp.get("/me")
@openapi.definition(
    summary="The caller, their organisation and role",
    tag="accounts",
    secured=docs.BEARER,
    response=[docs.ok(200, MeOut, "The caller"), *docs.errors(401, 404, 503)],
)
@authorized(ANY_ROLE)
async def me(request: Request) -> HTTPResponse:
    context = context_of(request)
    principal = principal_of(request)
    answer = await context.accounts.me(principal)
    if principal.role is Role.VENDOR:
        answer["vendor_id"] = await context.vendors.contact_vendor_id(principal)
    return json(answer)
