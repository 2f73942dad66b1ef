"""API keys against a live worker: a key's life cycle, from `vertaal keys create` to revoke."""

import re

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from cli.main import main
from service import create_app
from tests.conftest import TinyModels
from tests.processes import Worker, wait_for
from tests.service.test_api import poll, unique_article


def vertaal_keys(redis_url: str, *args: str) -> str:
    result = CliRunner(env={"VERTAAL_REDIS_URL": redis_url}).invoke(main, ["keys", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def create_key(redis_url: str, *options: str) -> tuple[str, str]:
    """(key id, key) from `vertaal keys create`."""
    out = vertaal_keys(redis_url, "create", "--name", "newsroom", *options)
    found = re.search(r"id:\s+(\w+)\nkey:\s+(vk_\S+)", out)
    assert found, out
    return found.group(1), found.group(2)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_keys_life_cycle(redis_url: str, tiny_models: TinyModels, live_worker: Worker) -> None:
    client: FlaskClient = create_app(
        {"redis_url": redis_url, "require_api_key": True}
    ).test_client()
    key_id, key = create_key(redis_url, "--chars-per-month", "600")
    assert key not in vertaal_keys(redis_url, "list"), "a key is shown once, then only its id"
    assert key_id in vertaal_keys(redis_url, "list")
    from workers.connections import redis_client

    stored = b" ".join(k for k in redis_client(redis_url).scan_iter("vertaal:apikey*"))
    assert key.encode() not in stored and key[3:].encode() not in stored, "stored hashed"

    text = {"text": unique_article(3, seed=70)}
    missing = client.post("/api/v1/jobs", json=text)
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "api_key_required"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.post("/api/v1/jobs", json=text, headers=bearer("vk_not-a-key"))
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_api_key"
    assert client.get("/api/v1/health").status_code == 200, "probes need no key"

    accepted = client.post("/api/v1/jobs", json=text, headers=bearer(key))
    assert accepted.status_code == 202
    assert "token" not in accepted.get_json(), "a key's job is read with the key"
    reserved = client.get("/api/v1/usage", headers=bearer(key)).get_json()["characters"]
    assert reserved == len(text["text"]), "the submitted size is held at once"
    done = poll_with_key(client, accepted.get_json()["id"], key)
    chars = len(done["result"]["source"]["title"] or "") + sum(
        len(s) for p in done["result"]["source"]["paragraphs"] for s in p
    )
    wait_for(
        lambda: client.get("/api/v1/usage", headers=bearer(key)).get_json()["characters"] == chars,
        30, "the reservation to be settled to what was translated",
    )  # fmt: skip
    usage = client.get("/api/v1/usage", headers=bearer(key)).get_json()
    assert usage["characters"] == chars <= 600 and usage["character_limit"] == 600
    assert usage["key"] == key_id and usage["name"] == "newsroom"

    over = client.post(
        "/api/v1/jobs", json={"text": unique_article(3, seed=71)}, headers=bearer(key)
    )
    assert over.status_code == 403
    assert over.get_json()["error"]["code"] == "quota_exceeded"
    assert f"{600 - chars:,} of its 600 characters left" in over.get_json()["error"]["message"]
    assert client.get("/api/v1/usage", headers=bearer(key)).get_json()["characters"] == chars

    vertaal_keys(redis_url, "revoke", key_id)
    revoked = client.get(f"/api/v1/jobs/{done['id']}", headers=bearer(key))
    assert revoked.status_code == 401
    assert "revoked" in vertaal_keys(redis_url, "list")


def poll_with_key(client: FlaskClient, job_id: str, key: str) -> dict:  # type: ignore[type-arg]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    try:
        final = poll(client, job_id)[-1]
    finally:
        client.environ_base.pop("HTTP_AUTHORIZATION")
    assert final["status"] == "done", final
    return final


def test_a_form_post_with_a_key_needs_no_csrf_token(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db}).test_client()
    _, key = create_key(redis_db)
    form = {"text": unique_article(3, seed=72)}
    assert client.post("/api/v1/jobs", data=form).status_code == 403
    assert client.post("/api/v1/jobs", data=form, headers=bearer(key)).status_code == 202


def test_usage_needs_a_key_and_bad_rates_are_refused(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db}).test_client()
    assert client.get("/api/v1/usage").status_code == 401
    result = CliRunner(env={"VERTAAL_REDIS_URL": redis_db}).invoke(
        main, ["keys", "create", "--name", "x", "--rate", "lots"]
    )
    assert result.exit_code == 2 and "is not a rate" in result.stderr
    missing = CliRunner(env={"VERTAAL_REDIS_URL": redis_db}).invoke(main, ["keys", "revoke", "0"])
    assert missing.exit_code == 2 and "no key with id" in missing.stderr


@pytest.mark.parametrize("header", ["Bearer", "DeepL-Auth-Key"])
def test_the_protocols_header_forms_map_onto_the_same_keys(redis_db: str, header: str) -> None:
    client = create_app({"redis_url": redis_db, "require_api_key": True}).test_client()
    _, key = create_key(redis_db)
    usage = client.get("/api/v1/usage", headers={"Authorization": f"{header} {key}"})
    assert usage.status_code == 200
