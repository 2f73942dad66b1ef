"""One JSON error shape, `{"error": {"code", "message"}}`, registered once. The HTTP status of
each Vertaal error is the error class's own (`workers/errors.py`). Nothing a client sends may
produce a 500."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from kombu.exceptions import OperationalError
from werkzeug.exceptions import HTTPException

from workers.connections import RedisUnavailable
from workers.errors import VertaalError

log = logging.getLogger(__name__)


class ServiceUnavailable(Exception):
    """Redis or the queue did not answer."""


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    """JSON under /api; a page in the site's layout everywhere else."""
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": code, "message": message}}), status
    title = PAGE_TITLES.get(status, "Something went wrong")
    return render_template("error.html", title=title, message=message), status


PAGE_TITLES = {
    400: "That did not work",
    404: "Not found",
    405: "Not allowed",
    413: "Too large",
    503: "Vertaal is not available right now",
}


def register(app: Flask) -> None:
    @app.errorhandler(VertaalError)
    def vertaal_error(error: VertaalError) -> tuple[Response | str, int]:
        return error_response(error.http_status, error.code, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        code = (error.name or "error").lower().replace(" ", "_")
        message = error.description or error.name
        if error.code == 413:  # werkzeug's words name no limit
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"the request is larger than the limit of {limit:,} bytes"
        return error_response(error.code or 500, code, message)

    @app.errorhandler(ServiceUnavailable)
    @app.errorhandler(OperationalError)
    def unavailable(error: Exception) -> tuple[Response | str, int]:
        log.warning("service unavailable: %s", error)
        return error_response(
            503, "unavailable", "the job queue (Redis) is not answering; try again shortly"
        )

    for kind in RedisUnavailable:
        app.register_error_handler(kind, unavailable)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred")
