"""Swagger UI's files for the API reference page (/api/v1/docs), served from this app's own
origin so the page needs no CDN and the CSP stays `'self'`.

They come from the flask-swagger-ui package, which follows Swagger UI's releases. Only its
files are used: its own page starts Swagger UI with an inline script, which the CSP forbids;
`static/api-docs.js` starts it instead.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Blueprint

SWAGGER_UI = files("flask_swagger_ui") / "dist"

bp = Blueprint(
    "swagger_ui", __name__, static_folder=str(SWAGGER_UI), static_url_path="/static/swagger-ui"
)
