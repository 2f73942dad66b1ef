"""Signed callbacks against a live worker and a receiver on loopback (allowed by setting)."""

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service import create_app
from tests.conftest import TinyModels, service_env
from tests.processes import Receiver, RedisServer, Worker, wait_for
from tests.service.test_api import unique_article
from tests.service.test_auth import bearer, create_key
from workers.connections import redis_client
from workers.operations.keys import KeyStore
from workers.operations.webhooks import CallbackRefusedError, resolve_callback, sign, verify

pytestmark = pytest.mark.slow

HOOKS = {"webhook_allow": "127.0.0.1", "webhook_retry_base": 0.3, "webhook_retry_window": 4}


@pytest.fixture(scope="module")
def hooked(
    redis_server: RedisServer, tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FlaskClient, str, Worker]]:
    url = redis_server.fresh_database()
    env = service_env(tiny_models, url, **HOOKS)
    worker = Worker(env, tmp_path_factory.mktemp("hooks") / "log")
    yield create_app({"redis_url": url, **HOOKS}).test_client(), url, worker
    worker.stop()


def job(client: FlaskClient, job_id: str, key: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(key)).get_json()
    return body


def deliveries(client: FlaskClient, job_id: str, key: str) -> list[dict[str, Any]]:
    return list(job(client, job_id, key).get("callback", {}).get("deliveries", []))


def test_each_job_gets_one_signed_delivery(hooked: Any, receiver: Receiver) -> None:
    client, url, _ = hooked
    key_id, key = create_key(url)
    secret = KeyStore(redis_client(url)).get(key_id).webhook_secret  # type: ignore[union-attr]
    body = {"text": unique_article(3, seed=150), "callback_url": receiver.url}
    first = client.post("/api/v1/jobs", json=body, headers=bearer(key)).get_json()["id"]
    wait_for(lambda: deliveries(client, first, key), 60, "the first callback")
    again = client.post("/api/v1/jobs", json=body, headers=bearer(key))
    assert again.status_code == 200, "a cache hit is announced too"
    second = again.get_json()["id"]
    wait_for(lambda: deliveries(client, second, key), 30, "the second callback")

    assert len(receiver.calls) == 2
    for (_, headers, raw), job_id in zip(receiver.calls, (first, second), strict=True):
        assert verify(secret, headers["X-Vertaal-Signature"], raw)
        assert not verify("another secret", headers["X-Vertaal-Signature"], raw)
        sent = json.loads(raw)
        assert sent["id"] == job_id and sent["status"] == "done" and sent["result"]
        assert sent["result"] == job(client, job_id, key)["result"]
        [attempt] = deliveries(client, job_id, key)
        assert attempt["outcome"] == "delivered" and attempt["status_code"] == 204


def test_a_failing_receiver_gets_retries_with_growing_delays_then_fails(
    hooked: Any, receiver: Receiver
) -> None:
    client, url, _ = hooked
    _, key = create_key(url)
    receiver.status = 500
    body = {"text": unique_article(3, seed=151), "callback_url": receiver.url, "summary": False}
    job_id = client.post("/api/v1/jobs", json=body, headers=bearer(key)).get_json()["id"]
    wait_for(
        lambda: (d := deliveries(client, job_id, key)) and d[-1]["outcome"] == "failed",
        60,
        "the callback to fail for good",
    )
    attempts = deliveries(client, job_id, key)
    assert [a["outcome"] for a in attempts] == ["retrying"] * (len(attempts) - 1) + ["failed"]
    assert len(attempts) >= 3 and len(receiver.calls) == len(attempts)
    assert all(a["status_code"] == 500 for a in attempts)
    gaps = [b[0] - a[0] for a, b in zip(receiver.calls, receiver.calls[1:], strict=False)]
    assert gaps == sorted(gaps) and gaps[-1] > 2 * gaps[0], f"backoff grows: {gaps}"
    planned = datetime.fromisoformat(attempts[0]["next_attempt_at"])
    assert planned > datetime.fromisoformat(attempts[0]["at"])


def test_callbacks_to_private_addresses_are_refused_unless_allowed(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db, "webhook_secret": "s"}).test_client()
    for target in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://localhost/x",
                   "http://169.254.169.254/latest/meta-data", "ftp://example.org/"):  # fmt: skip
        refused = client.post(
            "/api/v1/jobs", json={"text": unique_article(3, seed=152), "callback_url": target}
        )
        assert refused.status_code == 400, target
        assert refused.get_json()["error"]["code"] in ("callback_refused", "bad_request"), target
    unsigned = create_app({"redis_url": redis_db, "webhook_allow": "127.0.0.1"}).test_client()
    refused = unsigned.post(
        "/api/v1/jobs",
        json={"text": unique_article(3, seed=153), "callback_url": "http://127.0.0.1:9/"},
    )
    assert (
        refused.status_code == 400 and "needs an API key" in refused.get_json()["error"]["message"]
    )


def test_allowing_is_by_host_or_network() -> None:
    with pytest.raises(CallbackRefusedError, match="VERTAAL_WEBHOOK_ALLOW"):
        resolve_callback("http://127.0.0.1:8080/x", "")
    assert resolve_callback("http://127.0.0.1:8080/x", "127.0.0.0/8").address == "127.0.0.1"
    assert resolve_callback("http://localhost:8080/x", "localhost").host == "localhost"


def test_signatures_are_timestamped() -> None:
    body = b'{"id": "x"}'
    old = sign("secret", int(time.time()) - 3600, body)
    assert not verify("secret", old, body), "a replayed delivery is refused"
    assert verify("secret", sign("secret", int(time.time()), body), body)
    assert not verify("secret", sign("secret", int(time.time()), body), body + b" ")


def test_cli_notify_posts_a_signed_summary(
    receiver: Receiver, tmp_path: Path, tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from cli.main import main
    from tests.conftest import ARTICLES

    monkeypatch.setenv("VERTAAL_WEBHOOK_SECRET", "folder-secret")
    result = CliRunner().invoke(
        main,
        ["translate", str(ARTICLES / "sherman-brussels-talks.txt"), "-o", str(tmp_path),
         "--no-summary", "--notify", receiver.url],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [(_, headers, raw)] = receiver.calls
    assert verify("folder-secret", headers["X-Vertaal-Signature"], raw)
    assert json.loads(raw)["line"] == "1 translated, 0 skipped, 0 failed, 0 ignored"
