"""One JSON error shape, `{"error": {"code", "message"}}`, registered once. The HTTP status of
each Vertaal error is the error class's own (`workers/errors.py`). Nothing a client sends may
produce a 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import redis
from flask import Flask, Response, jsonify, make_response, render_template, request
from flask.json.provider import DefaultJSONProvider
from kombu.exceptions import OperationalError
from werkzeug.exceptions import HTTPException

from workers.connections import RedisUnavailable, redis_location
from workers.errors import VertaalError

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """Redis or the queue did not answer."""


class QueueFull(Exception):
    """The queue's Redis is near its memory limit: no new jobs until workers catch up."""


class Refusal(Exception):
    """A protocol route's refusal of a request: its status and its words, answered in the
    shape of the blueprint that raised it (PROTOCOL_SHAPES)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


# The LibreTranslate and DeepL blueprints' own error bodies, by blueprint name: their
# clients read only those, whatever went wrong (a full queue, Redis gone, a bug).
ErrorShape = Callable[[int, str], Response]
PROTOCOL_SHAPES: dict[str, ErrorShape] = {}
# The paths each protocol owns (a path, and everything under it), for what no route of its
# blueprint answers: a 404 for an unknown path, a 405 for a wrong method.
PROTOCOL_PATHS: dict[str, tuple[str, ...]] = {}


def _protocol_shape() -> ErrorShape | None:
    shape = PROTOCOL_SHAPES.get(request.blueprint or "")
    if shape is not None:
        return shape
    path = request.path.rstrip("/") or "/"
    for name, owned in PROTOCOL_PATHS.items():
        if any(path == p or path.startswith(p + "/") for p in owned):
            return PROTOCOL_SHAPES.get(name)
    return None


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """In a protocol's own shape on its routes; JSON under /api; a page everywhere else."""
    shape = _protocol_shape()
    if shape is not None:
        response = shape(status, message)
    elif request.path.startswith("/api/"):
        response = jsonify({"error": {"code": code, "message": message}})
    else:
        title = PAGE_TITLES.get(status, "Something went wrong")
        response = make_response(render_template("error.html", title=title, message=message))
    response.status_code = status
    response.headers.update(headers or {})
    return response


PAGE_TITLES = {
    400: "That did not work",
    404: "Not found",
    405: "Not allowed",
    410: "Gone",
    413: "Too large",
    503: "Vertaal is not available right now",
}


# Seconds a client is asked to wait before trying again when the queue is down or full.
RETRY_AFTER = "5"


def register(app: Flask) -> None:
    @app.errorhandler(VertaalError)
    def vertaal_error(error: VertaalError) -> Response:
        headers = {"Retry-After": RETRY_AFTER} if error.http_status == 503 else {}
        return error_response(error.http_status, error.code, str(error), headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        message = error.description or error.name
        if error.code == 413:  # werkzeug's words name no limit
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"the request is larger than the limit of {limit:,} bytes"
        # Keep what the error says in its headers (405's Allow), not its content type.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return error_response(error.code or 500, code, message, headers)

    @app.errorhandler(Refusal)
    def refused(error: Refusal) -> Response:
        return error_response(error.status, "refused", error.message)

    @app.errorhandler(QueueFull)
    @app.errorhandler(redis.OutOfMemoryError)
    def full(error: Exception) -> Response:
        log.warning("queue full: %s", error)
        message = str(error) if isinstance(error, QueueFull) else "the job queue is full"
        return error_response(503, "queue_full", message, {"Retry-After": RETRY_AFTER})

    @app.errorhandler(ServiceUnavailable)
    @app.errorhandler(OperationalError)
    @app.errorhandler(redis.RedisError)
    def unavailable(error: Exception) -> Response:
        log.warning("service unavailable: %s", error)
        where = redis_location(app.extensions["vertaal"].settings.redis_url)
        return error_response(
            503,
            "unavailable",
            f"the job queue (Redis at {where}) is not answering; try again shortly",
            {"Retry-After": RETRY_AFTER},
        )

    for kind in RedisUnavailable:
        app.register_error_handler(kind, unavailable)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred")

    @app.after_request
    def options_in_json(response: Response) -> Response:
        """Flask answers OPTIONS itself with an empty HTML body; under /api, say the allowed
        methods in JSON too."""
        if request.method == "OPTIONS" and request.path.startswith("/api/"):
            allowed = sorted(m.strip() for m in response.headers.get("Allow", "").split(",") if m)
            response.set_data(json.dumps({"allow": allowed}))
            response.mimetype = "application/json"
        return response


class SafeJSONProvider(DefaultJSONProvider):
    """JSON nested too deeply for the parser is malformed input (a 400), not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
