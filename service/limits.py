"""Rate limits (Flask-Limiter, counters in the queue's Redis, shared by every web process).

Submissions are limited per API key (its own rate, or VERTAAL_RATE_LIMIT) or, without a key,
per client address; cheap reads (polling a job, usage) have their own, generous limit, so a
polling client is never throttled out of its own result. Health, readiness and metrics are
never limited. A 429 carries `Retry-After` and the `RateLimit-*` headers. When Redis is
unreachable, each process falls back to counting in its own memory.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from service.auth import current_key
from service.context import services
from workers.connections import sentinel_options, sentinel_url
from workers.settings import Settings

# Endpoints that queue work (or write), and the cheap reads with their own budget.
SUBMITTING = (
    "api.create_job",
    "api.cancel_job",
    "api.glossaries.create_glossary",
    "api.glossaries.delete_glossary",
    "web.submit_form",
    "web.sign_in_form",
    "web.cancel",
    "libretranslate.translate",
    "libretranslate.detect_language",
    "libretranslate.translate_file",
    "deepl.translate",
    "deepl.upload_document",
    # Glossaries are written to the queue's Redis: each change counts as a submission.
    "web.create_glossary",
    "web.delete_glossary",
    "deepl.create_glossary",
    "deepl.delete_glossary",
    "deepl.create_multilingual",
    "deepl.patch_multilingual",
    "deepl.put_dictionary",
    "deepl.delete_dictionary",
)
READING = (
    "api.get_job",
    "api.usage",
    "api.glossaries.list_glossaries",
    "api.glossaries.get_glossary",
    "web.job_page",
    "web.job_panel",
    "web.job_status",
    "web.download_markdown",
    "web.download_json",
    "libretranslate.download_file",
    "deepl.document_status",
    "deepl.document_result",
    "deepl.usage",
    "web.glossaries_page",
    "web.glossary_page",
    "deepl.list_glossaries",
    "deepl.get_glossary",
    "deepl.glossary_entries",
    "deepl.list_multilingual",
    "deepl.get_multilingual",
    "deepl.multilingual_entries",
)


def rate_key() -> str:
    """The key's id when a valid key is presented, else the client's address (a made-up
    key cannot buy a fresh budget: only valid keys count)."""
    record = current_key()
    return f"key:{record.id}" if record else f"ip:{get_remote_address() or 'unknown'}"


def _write_limit() -> str:
    record = current_key()
    return (record.rate if record and record.rate else None) or services().settings.rate_limit


def _read_limit() -> str:
    return str(services().settings.read_rate_limit)


def limits_storage(url: str) -> tuple[str, dict[str, Any]]:
    """The counters' storage URI and options for the `limits` library: a Sentinel URL
    becomes its `redis+sentinel://` form, with the same master, database and credentials
    as every other client of the queue's Redis (connections.py)."""
    options: dict[str, Any] = {"socket_connect_timeout": 1, "socket_timeout": 2}
    found = sentinel_url(url)
    if found is None:
        return url, options
    hosts = ",".join(f"{host}:{port}" for host, port in found.sentinels)
    options.update(db=found.db, sentinel_kwargs=sentinel_options(found), **found.credentials())
    # Counters are written and read on the master only: a replica may lag behind it.
    return f"redis+sentinel://{hosts}/{found.master}", {**options, "use_replicas": False}


def install_limits(app: Flask, settings: Settings) -> Limiter:
    storage_uri, storage_options = limits_storage(settings.redis_url)
    app.config.update(
        RATELIMIT_STORAGE_URI=storage_uri,
        RATELIMIT_STORAGE_OPTIONS=storage_options,
        RATELIMIT_KEY_PREFIX="vertaal-limits",
        RATELIMIT_STRATEGY="fixed-window",
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        # Its own headers put Retry-After on every answer and a timestamp in RateLimit-Reset;
        # `rate_limit_headers` below writes the draft standard's instead.
        RATELIMIT_HEADERS_ENABLED=False,
    )
    limiter = Limiter(key_func=rate_key)
    # A decorator on an already registered view does nothing: wrap the registered ones.
    for endpoints, limit in ((SUBMITTING, _write_limit), (READING, _read_limit)):
        for endpoint in endpoints:
            if endpoint in app.view_functions:
                view = app.view_functions[endpoint]
                app.view_functions[endpoint] = limiter.limit(limit)(view)  # type: ignore[assignment]
    limiter.init_app(app)
    app.extensions["vertaal_limiter"] = limiter
    app.after_request(rate_limit_headers)
    return limiter


def rate_limit_headers(response: Response) -> Response:
    limiter: Limiter = current_app.extensions["vertaal_limiter"]
    try:
        current = limiter.current_limit
    except Exception:  # the storage went away mid-request: no headers, no failure
        return response
    if current is None:
        return response
    reset = max(0, int(current.reset_at - time.time()))
    response.headers["RateLimit-Limit"] = str(current.limit.amount)
    response.headers["RateLimit-Remaining"] = str(current.remaining)
    response.headers["RateLimit-Reset"] = str(reset)
    response.headers["RateLimit-Policy"] = f"{current.limit.amount};w={current.limit.get_expiry()}"
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, reset))
    return response
