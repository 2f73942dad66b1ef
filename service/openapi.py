"""The OpenAPI 3.1 document of the HTTP API, served at /api/v1/openapi.json and shown by
Swagger UI at /api/v1/docs.

spectree generates it from the pydantic models each view declares (`documented(...)`): the
same models the views validate requests with and shape responses by, so the document cannot
drift from the code. spectree is used for the document only (`skip_validation`): the views
validate themselves, because one route takes JSON or a form with a file, every blueprint
answers errors in its own shape, and a client's bad input must never become spectree's 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from spectree.plugins.flask_plugin import FlaskPlugin

from service.schemas import ErrorBody

ERROR_MEANINGS = {
    400: "Empty, malformed or unreadable input.",
    401: "No API key where one is required, or a key that is not valid (`Bearer <key>`).",
    403: "A form post without this site's CSRF token (send JSON, or the token), a key "
    "over its monthly quota (`quota_exceeded`), or a change to a global glossary "
    "(`glossary_read_only`).",
    404: "No such job or glossary (wrong id, expired, or another sender's).",
    409: "The job is not active any more.",
    410: "The job is done, but its cached result was dropped; submit the article again.",
    413: "The article or upload is too large.",
    415: "Unsupported content type or file type.",
    422: "The text is clearly not Dutch.",
    429: "Too many requests: see Retry-After and the RateLimit-* headers.",
    503: "Redis, the queue or the workers are not available, or the queue is full (`queue_full`).",
}


class _DocumentOnly(FlaskPlugin):
    """The app serves the document and the docs page itself, from its own files."""

    def register_route(self, app: Any) -> None:
        pass


spec = SpecTree(
    "flask",
    backend=_DocumentOnly,
    title="Vertaal",
    version="1",
    description="Dutch news articles to English translations and summaries. Submit a job, "
    "poll it until it is done, read the result.",
    mode="strict",
    page_templates={},
    annotations=False,
    # What a view would answer if spectree validated; ours answer 400 in our own shape.
    validation_error_status=400,
    validation_error_model=ErrorBody,
    naming_strategy=lambda model: model.model_config.get("title") or model.__name__,
    # API keys (`vertaal keys create`); needed everywhere when VERTAAL_REQUIRE_API_KEY is on.
    security_schemes=[
        SecurityScheme(
            name="apiKey", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
        ),
    ],
    nested_naming_strategy=lambda parent, child: child,
)


def responses(
    ok: dict[int, tuple[type | None, str]], errors: tuple[int, ...], error_model: type = ErrorBody
) -> Response:
    """Success bodies by status, and the error statuses a route answers, in `error_model`
    (the job API's shape by default; the LibreTranslate and DeepL routes answer in theirs)."""
    declared: dict[str, Any] = {f"HTTP_{code}": body for code, body in ok.items()}
    declared |= {f"HTTP_{code}": (error_model, ERROR_MEANINGS[code]) for code in errors}
    return Response(**declared)


def documented(**declared: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Put a view in the document with its request and response models (see spectree's
    `validate`); the view's docstring becomes the operation's summary and description."""
    return spec.validate(skip_validation=True, **declared)


def openapi_document() -> dict[str, Any]:
    """The document for the current app (needs an app context)."""
    document: dict[str, Any] = spec.spec
    return document
