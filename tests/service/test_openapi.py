"""The OpenAPI document against the app that serves it, with schemathesis: no request the
document allows is refused, none it forbids is accepted, no answer breaks the document, and
nothing a client sends produces a 500."""

import os
from collections.abc import Callable

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from service import create_app
from tests.conftest import TinyModels
from tests.processes import Worker
from workers.connections import redis_client
from workers.operations import heartbeats

# The refusals the document itself announces for well-formed requests: no key where one is
# needed (401), an unknown job (404), a job already over (409), a result the cache dropped
# (410), and text that is well-formed but clearly not Dutch (422: no schema matter).
EXAMPLES = int(os.environ.get("TEST_SCHEMATHESIS_EXAMPLES", "60"))
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "404", "409", "410", "422"]
            }
        }
    }
)


# LibreTranslate's and DeepL's paths refuse in their own protocols' terms, which weigh the
# text's detected language (LibreTranslate: 400 for English with `auto`) and the clients'
# own keys (403): the published clients test them (test_libretranslate.py, test_deepl.py).
PROTOCOLS = ("/translate", "/detect", "/translate_file", "/suggest", "/health", "/v2/", "/v3/")


def check(case: schemathesis.Case, form_headers: dict[str, str], key: str | None = None) -> None:
    excluded = []
    if case.path.startswith(PROTOCOLS):
        excluded.append(schemathesis.checks.positive_data_acceptance)
    if case.path == "/api/v1/glossaries" and case.method == "POST":
        # A glossary's rules (a tab on each line, no two entries for one Dutch word) are
        # more than a schema states: well-formed random entries are rightly refused.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    if case.media_type == "multipart/form-data":
        # A file's content (UTF-8 Dutch text, a Word document) cannot be stated in a schema:
        # a valid-looking part with random bytes is rightly refused.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    if key is not None:  # every request a key's own (schemathesis may add its own headers)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
    if case.method == "POST":
        # Form posts need a CSRF token with its session cookie, as from /api/v1/csrf.
        case.headers = {**(case.headers or {}), **form_headers}
        # Whether a callback's host exists and is public is the network's answer, not the
        # schema's (callbacks have tests of their own, in tests/workers/test_webhooks.py).
        if isinstance(case.body, dict):
            case.body.pop("callback_url", None)
    response = case.call_and_validate(excluded_checks=excluded)
    if case.path.startswith(PROTOCOLS) and response.status_code >= 400:
        # Their clients show an error's body to their users: never a page.
        content_type = " ".join(response.headers.get("content-type", []))
        assert content_type.startswith("application/json"), response.text[:200]


def fuzz(
    app: Flask, paths: Callable[[str], bool], key: str | None = None, examples: int = EXAMPLES
) -> set[str]:
    """Every documented operation whose path `paths` accepts, with schemathesis (each request
    sent with `key`, if given); returns the operations it tried."""
    answer = app.test_client().get("/api/v1/csrf")
    cookie = answer.headers["Set-Cookie"].split(";")[0]
    form_headers = {"X-CSRFToken": answer.get_json()["csrf_token"], "Cookie": cookie}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if paths(op.path)]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            check(case, form_headers, key)

        run()
    return {f"{op.method.upper()} {op.path}" for op in operations}


def test_the_api_keeps_its_documented_promises(redis_db: str) -> None:
    app = create_app(
        {"redis_url": redis_db, "heartbeat_seconds": 60, "rate_limit": "100000/minute"}
    )
    heartbeats.beat(redis_client(redis_db), "a worker", {}, every=60)  # ready, as with one
    tried = fuzz(app, lambda path: not path.startswith(PROTOCOLS))
    assert tried >= {
        "POST /api/v1/jobs", "GET /api/v1/jobs/{job_id}", "DELETE /api/v1/jobs/{job_id}",
        "POST /api/v1/glossaries", "GET /api/v1/glossaries/{glossary_id}",
    }  # fmt: skip


def test_the_protocols_answer_anything_without_a_server_error(
    redis_url: str, tiny_models: TinyModels, live_worker: Worker
) -> None:
    """LibreTranslate's and DeepL's paths wait for a worker's answer, so a real one answers
    here: whatever a client sends, it gets a translation or a refusal, never a 5xx."""
    app = create_app(
        {
            "redis_url": redis_url,
            "translation_model": str(tiny_models.translation),
            "summary_model": str(tiny_models.summary),
            "converted_dir": tiny_models.converted,
            "rate_limit": "100000/minute",
        }
    )
    tried = fuzz(app, lambda path: path.startswith(PROTOCOLS))
    assert tried >= {"POST /translate", "POST /v2/translate", "POST /v2/document"}


def test_with_keys_required_no_path_answers_a_server_error(
    redis_url: str, tiny_models: TinyModels, live_worker: Worker
) -> None:
    """Every path, the job API's and both protocols', with keys required and each request a
    key's own: a translation, a refusal, another owner's 404, but never a 5xx."""
    from tests.service.test_auth import create_key

    app = create_app(
        {
            "redis_url": redis_url,
            "require_api_key": True,
            "translation_model": str(tiny_models.translation),
            "summary_model": str(tiny_models.summary),
            "converted_dir": tiny_models.converted,
            "rate_limit": "100000/minute",
        }
    )
    _, key = create_key(redis_url)
    tried = fuzz(app, lambda path: True, key=key, examples=max(5, EXAMPLES // 4))
    assert {"POST /api/v1/jobs", "POST /translate", "POST /v2/translate"} <= tried
