"""Swagger UI for `/docs`, served by the app from the swagger-ui-bundle package.

sanic-ext's own page loads Swagger UI from a CDN: without internet (a laptop on a
train, a locked-down network) `/docs` is a blank page. Here its assets come from this
app (`/docs/assets/<version>/`), and the page is ours (`app/pages/templates/docs/`),
naming the files the package ships. Loaded only when the docs are enabled.
"""

from __future__ import annotations

from typing import Any

from app.pages import TEMPLATES

ASSETS_URL = "/docs/assets"
SWAGGER_HTML = TEMPLATES / "docs" / "swagger.html"


def sanic_config() -> dict[str, Any]:
    """sanic-ext's settings for a page that takes its assets from `serve_assets`."""
    from swagger_ui_bundle import swagger_ui_path

    return {
        "OAS_PATH_TO_SWAGGER_HTML": str(SWAGGER_HTML),
        "OAS_UI_SWAGGER_CDN_URL": ASSETS_URL,
        "OAS_UI_SWAGGER_VERSION": _version(swagger_ui_path.name),
    }


def serve_assets(app: Any) -> None:
    from swagger_ui_bundle import swagger_ui_path

    app.static(
        f"{ASSETS_URL}/{_version(swagger_ui_path.name)}",
        str(swagger_ui_path),
        name="swagger_ui_assets",
    )


def _version(folder: str) -> str:
    return folder.removeprefix("swagger-ui-")  # the package's folder: swagger-ui-4.15.5
