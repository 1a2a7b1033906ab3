"""The contract pages, served from vendored assets under `/static` so they work offline.

`/docs` is Swagger UI over `/openapi.json`; `/asyncapi` is the AsyncAPI renderer over
`/asyncapi.json`, which FastStream generates from the event models.
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

router = APIRouter(include_in_schema=False)

SWAGGER_UI = "/static/swagger-ui"
ASYNCAPI_UI = "/static/asyncapi"


def _root(request: Request) -> str:
    """The prefix a proxy mounted the app under, so asset URLs survive it."""
    root_path: str = request.scope.get("root_path", "")
    return root_path.rstrip("/")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} — OpenAPI",
        swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{root}{SWAGGER_UI}/favicon-32x32.png",
        # The default validator is an online service whose badge would be fetched from outside.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/asyncapi.json")
async def asyncapi_json(request: Request) -> JSONResponse:
    document: dict[str, Any] = request.app.state.asyncapi_document
    return JSONResponse(document)


@router.get("/asyncapi")
async def asyncapi_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    document: dict[str, Any] = request.app.state.asyncapi_document
    title = html.escape(f"{document['info']['title']} — AsyncAPI")
    config = {
        "schema": {"url": f"{root}/asyncapi.json"},
        "config": {
            "show": {"sidebar": True, "errors": True},
            "sidebar": {"showServers": "byDefault", "showOperations": "byDefault"},
        },
    }
    # Escaped so that nothing in the configuration can close the script element.
    config_js = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e")
    return HTMLResponse(
        f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}{ASYNCAPI_UI}/default.min.css">
<style>html {{ font-family: ui-sans-serif, system-ui, sans-serif; line-height: 1.5; }}</style>
</head>
<body>
<div id="asyncapi"></div>
<script src="{root}{ASYNCAPI_UI}/index.js"></script>
<script>
AsyncApiStandalone.render({config_js}, document.getElementById("asyncapi"));
</script>
</body>
</html>
"""
    )
