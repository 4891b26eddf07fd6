"""The "limit" app: the least work that answers like Onramp, to measure our overhead.

Bare Sanic (run with SANIC_AUTO_EXTEND=false: no sanic-ext), one raw asyncpg pool, and
for the vendor endpoints the same work as ours: verify the same bearer token, run the
same query, render the same JSON with orjson, gzip at the same level above the same
threshold. `/health` is a bare hello-world.
"""

from __future__ import annotations

import base64
import gzip
import os
import uuid

import asyncpg
import jwt
import orjson
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw

SECRET_KEY = os.environ["SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"]
LEVEL = int(os.environ.get("COMPRESS_LEVEL", "6"))
MIN_SIZE = int(os.environ.get("COMPRESS_MIN_SIZE", "1024"))
POOL_MAX = int(os.environ.get("DB_POOL_MAX", "10"))
OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
COLUMNS = "id, name, contact_email, phone, website, category, notes, status, created_at, updated_at"
# Built from constants only (no input): the same columns our service selects.
LIST_SQL = (
    f"SELECT {COLUMNS} FROM vendors WHERE organization_id = $1 "
    "ORDER BY created_at DESC, id DESC LIMIT $2"
)
GET_SQL = f"SELECT {COLUMNS} FROM vendors WHERE organization_id = $1 AND id = $2 LIMIT 1"

app = Sanic("limit")


@app.before_server_start
async def open_pool(app: Sanic) -> None:
    app.ctx.pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=POOL_MAX)


@app.after_server_stop
async def close_pool(app: Sanic) -> None:
    await app.ctx.pool.close()


def _default(value: object) -> str:
    return str(value)


def respond(request: Request, payload: object, status: int = 200) -> HTTPResponse:
    body = orjson.dumps(payload, default=_default, option=OPTIONS)
    headers = {}
    if len(body) >= MIN_SIZE:
        headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = gzip.compress(body, compresslevel=LEVEL, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return raw(body, status=status, headers=headers, content_type="application/json")


def organization_of(request: Request) -> uuid.UUID | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
        return uuid.UUID(claims["org"])
    except (jwt.PyJWTError, KeyError, ValueError):
        return None


@app.get("/health")
async def hello(request: Request) -> HTTPResponse:
    return raw(b'{"status":"ok"}', content_type="application/json")


@app.get("/api/v1/vendors")
async def list_vendors(request: Request) -> HTTPResponse:
    organization = organization_of(request)
    if organization is None:
        return respond(request, {"error": "unauthorized"}, 401)
    limit = int(request.args.get("limit", "50"))
    rows = await app.ctx.pool.fetch(LIST_SQL, organization, limit + 1)
    items = [dict(row) for row in rows[:limit]]
    cursor = None
    if len(rows) > limit:
        last = items[-1]
        raw_cursor = orjson.dumps([last["created_at"].isoformat(), str(last["id"])])
        cursor = base64.urlsafe_b64encode(raw_cursor).rstrip(b"=").decode()
    return respond(request, {"items": items, "next_cursor": cursor})


@app.get("/api/v1/vendors/<vendor_id:uuid>")
async def get_vendor(request: Request, vendor_id: uuid.UUID) -> HTTPResponse:
    organization = organization_of(request)
    if organization is None:
        return respond(request, {"error": "unauthorized"}, 401)
    row = await app.ctx.pool.fetchrow(GET_SQL, organization, vendor_id)
    if row is None:
        return respond(request, {"error": "not_found"}, 404)
    return respond(request, dict(row))
