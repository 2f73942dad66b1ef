"""`GET /metrics` in Prometheus' text format: HTTP requests by endpoint and status with
latency histograms (prometheus-flask-exporter), and the service's own figures read from
Redis (`workers/metrics.py`: jobs submitted and finished, queue depth, durations, cache hits,
workers, model load times).

Under gunicorn several processes answer requests: their HTTP figures are summed through
prometheus_client's multiprocess mode (`service/server.py` sets PROMETHEUS_MULTIPROC_DIR).
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_flask_exporter import PrometheusMetrics

from service.context import services
from workers.operations.metrics import RedisMetrics

bp = Blueprint("ops", __name__)


def install_metrics(app: Flask) -> PrometheusMetrics:
    # A registry per app: on the default one a second app (tests) would record nothing.
    registry = CollectorRegistry(auto_describe=True)
    exporter = PrometheusMetrics(
        app, path=None, registry=registry, defaults_prefix="vertaal", group_by="endpoint",
        excluded_paths=["^/metrics$", "^/static/"],
    )  # fmt: skip
    app.extensions["vertaal_http_metrics"] = registry
    return exporter


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; with VERTAAL_METRICS_TOKEN, only for `Bearer <token>`."""
    token = services().settings.metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return Response(
                "a Bearer token is needed for /metrics\n", 401, {"WWW-Authenticate": "Bearer"}
            )
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        http = CollectorRegistry()
        multiprocess.MultiProcessCollector(http)
    else:
        http = current_app.extensions["vertaal_http_metrics"]
    own = CollectorRegistry(auto_describe=False)
    own.register(RedisMetrics(services().queue, services().settings.heartbeat_seconds))
    body = generate_latest(http) + generate_latest(own)
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})
