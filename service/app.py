"""`create_app(overrides)`: the Flask app built from Settings.

The web process queues jobs and reads job records; it never imports torch or transformers.
Tasks are sent to the workers by name.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

import redis
from celery import signals
from flask import Flask, Response, g, request
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from service import api, api_docs, deepl, errors, glossaries, libretranslate, metrics, web
from service.context import Services
from service.errors import SafeJSONProvider
from service.limits import install_limits
from service.metrics import install_metrics
from workers.connections import RedisUnavailable
from workers.operations.logs import attach_request_id, job_id_var, new_request_id, request_id_var
from workers.settings import Settings, load_settings

log = logging.getLogger(__name__)

SECRET_KEY = "vertaal:secret-key"

# Everything the pages load comes from this app: no inline script or style, no other origin.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _secret_key(settings: Settings, queue: redis.Redis) -> str:
    """The key that signs form sessions: configured, or generated once and shared through
    Redis, so every web process (and every restart) accepts the others' forms."""
    if settings.secret_key:
        return settings.secret_key
    try:
        queue.set(SECRET_KEY, secrets.token_hex(32), nx=True)
        return str(queue.get(SECRET_KEY).decode())
    except RedisUnavailable:
        log.warning("Redis unavailable: using a per-process secret key; set VERTAAL_SECRET_KEY")
        return secrets.token_hex(32)


def install_request_ids(app: Flask) -> None:
    """Each request has an id (the client's X-Request-ID, or a new one), echoed in the
    answer, put on every log line, and carried to the worker with the job's message."""

    @app.before_request
    def bind() -> None:
        g.request_id_token = request_id_var.set(new_request_id(request.headers.get("X-Request-ID")))

    @app.after_request
    def echo(response: Response) -> Response:
        response.headers["X-Request-ID"] = request_id_var.get() or ""
        return response

    @app.teardown_request
    def unbind(error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
        job_id_var.set(None)


# The web process publishes jobs: their messages carry the request's id to the worker.
signals.before_task_publish.connect(attach_request_id, weak=False)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """The web app; `overrides` (setting name -> value) win over VERTAAL_* variables."""
    settings = load_settings(**dict(overrides or {}))
    app = Flask(__name__)
    app.json = SafeJSONProvider(app)
    built = Services.build(settings)
    app.config.update(
        # Uploads (HTML, Word) may be larger than the text they hold; the text limit is
        # checked after reading, with a clear 413.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # Flask's default of 500 kB for form fields would refuse a pasted article before
        # Vertaal's own limit could answer.
        MAX_FORM_MEMORY_SIZE=settings.max_upload_bytes,
        SECRET_KEY=_secret_key(settings, built.queue),
        # A form left open for hours must still submit.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.extensions["vertaal"] = built
    if settings.proxy_count:  # the client's address, as the reverse proxies in front saw it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count)  # type: ignore[method-assign]
    install_request_ids(app)
    install_metrics(app)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(libretranslate.bp)
    app.register_blueprint(deepl.bp)
    install_limits(app, settings)
    app.jinja_env.globals["zip"] = zip
    # Every form post is checked against cross-site use: the web form's by CSRFProtect, the
    # API's form posts by the API itself (JSON posts need no token: browsers cannot send them
    # cross-site without a preflight this app never grants).
    # The LibreTranslate and DeepL protocols take form posts from their clients as those
    # servers do (no session, no cookie: a key, when keys are required).
    csrf = CSRFProtect(app)
    for blueprint in (api.bp, glossaries.bp, libretranslate.bp, deepl.bp):
        csrf.exempt(blueprint)
    Talisman(
        app,
        force_https=settings.https,
        strict_transport_security=settings.https,
        session_cookie_secure=settings.https,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
    )
    errors.register(app)
    return app
