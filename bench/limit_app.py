"""The limit app: each piece of Onramp's work on a read, done the cheapest way there is.

`make bench` measures Onramp against this app, so the ratio is only honest if nothing
here is slower than it has to be. For every endpoint measured it gives a body byte for
byte equal to Onramp's (the bench checks it, after decompression, before it measures),
doing the same work: the bearer token verified (signature, expiry, the claims Onramp
requires), the same organisation-filtered, newest-first keyset query, the same JSON, gzip
at the same level above the same size. And nothing more, each the cheapest way:

- bare Sanic (`SANIC_AUTO_EXTEND=false`: no sanic-ext), no middleware, no logging;
- one asyncpg pool of fixed size, opened before the first request, that does not
  reset a connection it takes back (no second round trip per query; as Onramp's);
- ids cast to text in SQL, so orjson writes every value natively (no `default`);
- verified tokens remembered by their raw text until they expire, as Onramp does
  (`app.accounts.tokens`), so a repeated token costs a dict lookup in both;
- `HTTPResponse` built directly, gzip through `zlib` with the gzip container.

`/health` is bare Sanic's hello-world with the same body.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
import zlib

import asyncpg
import jwt
import orjson
from sanic import Request, Sanic
from sanic.response import HTTPResponse

SECRET_KEY = os.environ["SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"]
LEVEL = int(os.environ.get("COMPRESS_LEVEL", "6"))
MIN_SIZE = int(os.environ.get("COMPRESS_MIN_SIZE", "1024"))
POOL_SIZE = int(os.environ.get("DB_POOL_MAX", "10"))
OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
# Constants only, no input: Onramp's columns, in its order, the id as text.
COLUMNS = (
    "id::text AS id, name, contact_email, phone, website, category, notes, status, "
    "created_at, updated_at"
)
LIST_SQL = (
    f"SELECT {COLUMNS} FROM vendors WHERE organization_id = $1 "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)
GET_SQL = f"SELECT {COLUMNS} FROM vendors WHERE organization_id = $1 AND id = $2 LIMIT 1"
REQUIRED_CLAIMS = {"require": ["exp", "iat", "sub", "org", "role"]}
STAFF = frozenset({"owner", "member"})
UNAUTHORIZED = b'{"error":"unauthorized"}'
NOT_FOUND = b'{"error":"not_found"}'
JSON = "application/json"

app = Sanic("limit")
verified: dict[str, tuple[str, int]] = {}  # raw token -> (organisation id, expiry)


@app.before_server_start
async def open_pool(app: Sanic) -> None:
    app.ctx.pool = await asyncpg.create_pool(
        DATABASE_URL, min_size=POOL_SIZE, max_size=POOL_SIZE, reset=keep_session
    )


async def keep_session(connection: asyncpg.Connection) -> None:
    """No reset query on release (asyncpg still rolls back an open transaction)."""


@app.after_server_stop
async def close_pool(app: Sanic) -> None:
    await app.ctx.pool.close()


def respond(request: Request, body: bytes) -> HTTPResponse:
    if len(body) < MIN_SIZE:
        return HTTPResponse(body, content_type=JSON)
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = zlib.compress(body, LEVEL, 31)
        headers["Content-Encoding"] = "gzip"
    return HTTPResponse(body, headers=headers, content_type=JSON)


def organization_of(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    if not header.startswith(("Bearer ", "bearer ")):
        return None
    token = header[7:]
    known = verified.get(token)
    if known is not None and known[1] > time.time():
        return known[0]
    try:
        claims = jwt.decode(token, SECRET_KEY, algorithms=["HS256"], options=REQUIRED_CLAIMS)
    except jwt.PyJWTError:
        return None
    if claims["role"] not in STAFF:
        return None
    if len(verified) >= 10_000:
        verified.clear()
    verified[token] = (claims["org"], claims["exp"])
    return str(claims["org"])


@app.get("/health")
async def hello(request: Request) -> HTTPResponse:
    return HTTPResponse(b'{"status":"ok"}', content_type=JSON)


@app.get("/api/v1/vendors")
async def list_vendors(request: Request) -> HTTPResponse:
    organization = organization_of(request)
    if organization is None:
        return HTTPResponse(UNAUTHORIZED, status=401, content_type=JSON)
    limit = int(request.args.get("limit", "50"))
    rows = await app.ctx.pool.fetch(LIST_SQL, organization, limit + 1)
    items = [dict(row) for row in rows[:limit]]
    cursor = None
    if len(rows) > limit:
        last = items[-1]
        raw_cursor = orjson.dumps([last["created_at"].isoformat(), last["id"]])
        cursor = base64.urlsafe_b64encode(raw_cursor).rstrip(b"=").decode()
    return respond(request, orjson.dumps({"items": items, "next_cursor": cursor}, option=OPTIONS))


@app.get("/api/v1/vendors/<vendor_id:uuid>")
async def get_vendor(request: Request, vendor_id: uuid.UUID) -> HTTPResponse:
    organization = organization_of(request)
    if organization is None:
        return HTTPResponse(UNAUTHORIZED, status=401, content_type=JSON)
    row = await app.ctx.pool.fetchrow(GET_SQL, organization, vendor_id)
    if row is None:
        return HTTPResponse(NOT_FOUND, status=404, content_type=JSON)
    return respond(request, orjson.dumps(dict(row), option=OPTIONS))
