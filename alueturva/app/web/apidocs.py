"""``/docs``: the interactive API documentation (Swagger UI) from files bundled with a Python package
(``fastapi-offline``), so that it works on a closed network; nothing is fetched from the internet."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER_FILES = Path(str(files("fastapi_offline") / "static"))
SWAGGER_PATH = "/static/swagger"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Alueturva API</title>
<link rel="stylesheet" href="{swagger}/swagger-ui.css">
</head>
<body>
<main id="swagger-ui"></main>
<script src="{swagger}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE.format(swagger=SWAGGER_PATH), headers={"X-Frame-Options": "DENY"})
