"""The job API against a real Redis and a real worker process on the tiny models."""

import io
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

import workers.translating
from service import create_app
from tests.conftest import ARTICLES, TinyModels, run_queued_job, settings_for
from tests.processes import RedisServer, Worker, free_port, wait_for
from workers.cache import RESULT_PREFIX, SENTENCE_PREFIX
from workers.jobs.leases import Leases
from workers.settings import Settings

TOPICS = ["de dijken", "het onderwijs", "de zorg", "het klimaat", "de woningmarkt", "de NAVO"]


def unique_article(sentences: int, seed: int) -> str:
    """Dutch text no earlier test has submitted, with `sentences` distinct sentences."""
    lines = [
        f"De minister zei op dag {seed}-{i} dat er {i + seed} nieuwe plannen komen voor "
        f"{TOPICS[i % len(TOPICS)]}, maar de oppositie is daar niet blij mee."
        for i in range(sentences)
    ]
    return "\n\n".join(" ".join(lines[i : i + 3]) for i in range(0, len(lines), 3))


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    """What a page of this site (or a program that asked) sends with a form post to the API."""
    return {"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]}


def job_response_is_valid(client: FlaskClient, body: dict[str, Any]) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": "#/components/schemas/Job", "components": document["components"]}
    jsonschema.validate(body, schema)


def poll(client: FlaskClient, job_id: str, timeout: float = 90) -> list[dict[str, Any]]:
    """Every state seen until the job ends; none when the client may not see the job."""
    seen: list[dict[str, Any]] = []

    def ended() -> bool:
        answer = client.get(f"/api/v1/jobs/{job_id}")
        if answer.status_code == 404:
            return True
        seen.append(answer.get_json())
        return seen[-1]["status"] in ("done", "failed", "cancelled")

    wait_for(ended, timeout, f"job {job_id} to end")
    return seen


def wait_until(
    client: FlaskClient, job_id: str, condition: Any, timeout: float = 60
) -> dict[str, Any]:
    def matched() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").get_json()
        return body if condition(body) else None

    found: dict[str, Any] = wait_for(matched, timeout, f"job {job_id} to match")  # type: ignore[assignment]
    return found


def test_submit_progress_done(client: FlaskClient, live_worker: Worker) -> None:
    text = (ARTICLES / "blinken-stoltenberg-written-reply.txt").read_text()
    response = client.post("/api/v1/jobs", json={"text": text})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued"
    assert response.headers["Location"] == body["links"]["self"] == f"/api/v1/jobs/{body['id']}"
    job_response_is_valid(client, body)

    states = poll(client, body["id"])
    final = states[-1]
    assert final["status"] == "done", final.get("error")
    job_response_is_valid(client, final)
    result = final["result"]
    assert result["source"]["title"].startswith("Amerikaanse minister Blinken")
    assert [len(p) for p in result["translation"]["paragraphs"]] == [
        len(p) for p in result["source"]["paragraphs"]
    ]
    assert result["summary"]
    progress = [
        s["progress"] for s in states if s["status"] == "running" and s["progress"]["total"]
    ]
    assert progress, "progress was reported while running"
    translate = [p["done"] for p in progress if p["stage"] == "translate"]
    assert translate == sorted(translate)
    total = sum(len(p) for p in result["source"]["paragraphs"]) + 1
    assert final["progress"] == {"done": total, "total": total, "stage": "done", "attempt": 1}


def test_resubmission_is_answered_from_the_cache(
    client: FlaskClient, live_worker: Worker, redis_server: RedisServer
) -> None:
    text = unique_article(6, seed=1)
    first = client.post("/api/v1/jobs", json={"text": text}).get_json()
    done = poll(client, first["id"])[-1]
    assert done["status"] == "done"
    queued_before = redis_server.client().llen("vertaal")

    again = client.post("/api/v1/jobs", json={"text": text.replace("\n", "\r\n") + "\n"})
    assert again.status_code == 200
    body = again.get_json()
    assert body["status"] == "done" and body["id"] != first["id"]
    assert body["result"]["translation"] == done["result"]["translation"]
    assert redis_server.client().llen("vertaal") == queued_before == 0, "nothing was queued"
    assert client.get(body["links"]["self"]).get_json()["status"] == "done"

    without_summary = client.post("/api/v1/jobs", json={"text": text, "summary": False})
    assert without_summary.status_code == 202, "a different option is a different result"


def test_identical_concurrent_submissions_share_one_job(app: Flask, live_worker: Worker) -> None:
    """One sender's identical submissions share one job; another sender's never joins it."""
    text = unique_article(9, seed=2)
    first = app.test_client().post("/api/v1/jobs", json={"text": unique_article(2, seed=3)})
    sender = {"X-Job-Token": first.get_json()["token"]}
    ids: list[str] = []

    def submit() -> None:
        answer = app.test_client().post("/api/v1/jobs", json={"text": text}, headers=sender)
        ids.append(answer.get_json()["id"])

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    other = app.test_client().post("/api/v1/jobs", json={"text": text}).get_json()["id"]
    assert other != ids[0], "another sender's identical text is a job of its own"
    assert poll(app.test_client(), ids[0]) == [], "nor can it read the first"
    reader = app.test_client()
    reader.environ_base["HTTP_X_JOB_TOKEN"] = sender["X-Job-Token"]
    assert poll(reader, ids[0])[-1]["status"] == "done"


def test_cancel_a_running_job(
    client: FlaskClient, live_worker: Worker, redis_server: RedisServer
) -> None:
    response = client.post("/api/v1/jobs", json={"text": unique_article(240, seed=3)})
    job_id = response.get_json()["id"]
    wait_until(client, job_id, lambda b: b["progress"]["stage"] == "translate")
    cancelled = client.delete(f"/api/v1/jobs/{job_id}")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"

    # The worker stops at its next batch and acknowledges the message; the status stays.
    keys = redis_server.client()
    wait_for(lambda: keys.hlen("unacked") == 0, 30, "the worker to stop the job")
    final = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert final["status"] == "cancelled"
    assert "result" not in final
    assert not list(keys.scan_iter(RESULT_PREFIX + "*"))
    assert not list(keys.scan_iter(SENTENCE_PREFIX + "*")), "nothing partial was cached"
    assert client.delete(f"/api/v1/jobs/{job_id}").status_code == 409


def test_a_cancelled_queued_job_never_runs(redis_db: str, tiny_models: TinyModels) -> None:
    # No worker listens there, so the job stays queued until we run the task by hand.
    url = redis_db
    app = create_app({"redis_url": url, "translation_model": str(tiny_models.translation)})
    client = app.test_client()
    job_id = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=4)}).get_json()["id"]
    assert client.get(f"/api/v1/jobs/{job_id}").get_json()["status"] == "queued"
    assert client.delete(f"/api/v1/jobs/{job_id}").get_json()["status"] == "cancelled"

    run_queued_job(job_id, Settings(redis_url=url))  # the message arrives anyway
    final = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert final["status"] == "cancelled" and final["progress"]["stage"] == "queued"
    assert redis.Redis.from_url(url).hget(f"vertaal:job:{job_id}", "attempts") == b"0"


def test_a_job_cancelled_after_its_last_batch_caches_nothing(
    redis_db: str, tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = redis_db  # no worker: the task runs here, by hand
    client = create_app({"redis_url": url}).test_client()
    job_id = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=5)}).get_json()["id"]
    real = workers.translating.finish_articles

    def cancelled_at_the_end(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        assert client.delete(f"/api/v1/jobs/{job_id}").status_code == 200
        return result

    monkeypatch.setattr(workers.translating, "finish_articles", cancelled_at_the_end)
    settings = settings_for(
        tiny_models,
        redis_url=url,
    )
    run_queued_job(job_id, settings)
    assert client.get(f"/api/v1/jobs/{job_id}").get_json()["status"] == "cancelled"
    keys = redis.Redis.from_url(url)
    assert not list(keys.scan_iter(RESULT_PREFIX + "*"))
    assert not list(keys.scan_iter(SENTENCE_PREFIX + "*"))


def test_a_job_whose_input_is_gone_fails_and_frees_its_article(
    redis_db: str, tiny_models: TinyModels
) -> None:
    url = redis_db
    client = create_app({"redis_url": url}).test_client()
    article = {"text": unique_article(3, seed=6)}
    job_id = client.post("/api/v1/jobs", json=article).get_json()["id"]
    redis.Redis.from_url(url).delete(f"vertaal:job:{job_id}:input")  # evicted, say

    run_queued_job(job_id, Settings(redis_url=url))
    final = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert final["status"] == "failed" and final["error"]["code"] == "input_lost"
    again = client.post("/api/v1/jobs", json=article).get_json()
    assert again["id"] != job_id, "a resubmission gets a new job, not the dead one"


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"json": {"text": ""}}, 400, "empty_article"),
        ({"json": {"text": "  \n "}}, 400, "empty_article"),
        ({"data": {"text": ""}}, 400, "empty_article"),
        ({"data": {"file": (io.BytesIO(b""), "leeg.txt")}}, 400, "empty_article"),
        ({"data": {"file": (io.BytesIO(b""), "leeg.docx")}}, 400, "empty_article"),
        ({"json": {"text": "…\n\n— * —"}}, 400, "empty_article"),
        ({"json": {"text": "Meest gelezen\nVideospeler inladen..."}}, 400, "empty_article"),
        ({"json": {"txt": "Hallo"}}, 400, "bad_request"),
        ({"json": {"text": 42}}, 400, "bad_request"),
        ({"json": ["a list"]}, 400, "bad_request"),
        ({"data": b"{not json", "content_type": "application/json"}, 400, "bad_request"),
        ({"json": {"text": "Hallo\x00wereld"}}, 400, "undecodable"),
        ({"json": {"text": "Hallo \ud800 wereld"}}, 400, "bad_request"),
        ({"json": {"text": "Hallo wereld", "filename": "a\udc00.txt"}}, 400, "bad_request"),
        ({"json": {"text": "De NAVO praat. " * 140_000}}, 413, "too_large"),
        ({"data": b"text=hi", "content_type": "text/plain"}, 415, "unsupported_media_type"),
        ({"data": {"file": (io.BytesIO(b"%PDF-1.4"), "scan.pdf")}}, 415, "unsupported_format"),
        ({"data": {"file": (io.BytesIO(bytes(range(256))), "photo.txt")}}, 400, "undecodable"),
        ({"data": {"summary": "true"}}, 400, "bad_request"),
        ({"data": {"text": "Hallo", "summary": "maybe"}}, 400, "bad_request"),
        (
            {
                "json": {
                    "text": "NATO and Russia met in Brussels on Wednesday to discuss security "
                    "in Europe, but the talks ended without any agreement on the troops."
                }
            },
            422,
            "not_dutch",
        ),
    ],
)
def test_bad_input_gets_a_clear_json_error(
    client: FlaskClient, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = client.post("/api/v1/jobs", headers=csrf_headers(client), **request_kwargs)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]


def test_one_article_limit_in_characters_for_json_forms_and_text_files(redis_db: str) -> None:
    """The same article over the limit is refused at once however it arrives."""
    client = create_app({"redis_url": redis_db, "max_article_chars": 2000}).test_client()
    article = "Één zin over de dijken. " * 84  # 2,016 characters, 2,352 UTF-8 bytes
    ways = [
        {"json": {"text": article}},
        {"data": {"text": article}},
        {"data": {"file": (io.BytesIO(article.encode()), "nieuws.txt")}},
        {"data": {"file": (io.BytesIO(article.encode()), "nieuws.md")}},
    ]
    for way in ways:
        response = client.post("/api/v1/jobs", headers=csrf_headers(client), **way)
        assert response.status_code == 413, way
        error = response.get_json()["error"]
        assert error["code"] == "too_large"
        assert "is 2,016 characters long; the limit is 2,000 characters" in error["message"]
    fits = client.post("/api/v1/jobs", json={"text": article[:2000]})
    assert fits.status_code == 202, fits.get_json()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"text": "Hallo", "filename": "a.pdf"}, "filename: must be a file name ending in .txt"),
        ({"text": "Hallo", "callback_url": "ftp://x"}, "callback_url: must be an http://"),
        ({"text": "Hallo", "summary": "yes"}, "summary: must be true or false"),
        ({"text": "Hallo", "colour": "red"}, "colour: is not a field of this request"),
        ({"summary": True}, "text: is required"),
    ],
)
def test_validation_errors_are_words_not_patterns(
    client: FlaskClient, body: dict[str, Any], words: str
) -> None:
    error = client.post("/api/v1/jobs", json=body).get_json()["error"]
    assert error["code"] == "bad_request"
    assert words in error["message"]
    assert not any(sign in error["message"] for sign in ("^", "$", "[", "\\", "pattern"))


def test_upload_bigger_than_the_limit_is_413(redis_url: str) -> None:
    client = create_app({"redis_url": redis_url, "max_upload_bytes": 10_000}).test_client()
    big = io.BytesIO(b"<p>" + b"De NAVO praat met Rusland. " * 1000 + b"</p>")
    response = client.post(
        "/api/v1/jobs", data={"file": (big, "article.html")}, headers=csrf_headers(client)
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == {
        "code": "request_entity_too_large",
        "message": "the request is larger than the limit of 10,000 bytes",
    }


def test_large_pasted_form_text_is_accepted(client: FlaskClient, live_worker: Worker) -> None:
    """600 kB in a form field: above Flask's default 500 kB form limit, below Vertaal's 1 MB."""
    text = (
        unique_article(3, seed=5)
        + "\n\n"
        + "\n\n".join(
            f"Alinea {i} gaat over de plannen van het kabinet voor de komende jaren."
            for i in range(8500)
        )
    )
    assert 550_000 < len(text.encode()) < 1_000_000
    response = client.post(
        "/api/v1/jobs", data={"text": text, "summary": "false"}, headers=csrf_headers(client)
    )
    assert response.status_code == 202, response.get_json()
    client.delete(response.get_json()["links"]["self"])


def test_file_upload_and_text_with_a_filename(client: FlaskClient, live_worker: Worker) -> None:
    html = (Path(__file__).parents[1] / "data" / "nos-style.html").read_bytes()
    upload = client.post(
        "/api/v1/jobs",
        data={"file": (io.BytesIO(html), "../../etc/nieuws.html"), "summary": "false"},
        headers=csrf_headers(client),
    )
    assert upload.status_code == 202
    body = poll(client, upload.get_json()["id"])[-1]
    assert body["filename"] == "nieuws.html"
    assert body["result"]["source"]["title"] == "Kabinet trekt extra geld uit voor dijkversterking"
    assert body["result"]["summary"] is None

    as_text = client.post(
        "/api/v1/jobs", json={"text": html.decode(), "filename": "nieuws.html", "summary": False}
    )
    assert as_text.status_code == 200, "same document, same options: served from the cache"


def test_unknown_job_is_404_never_pending(client: FlaskClient) -> None:
    for job_id in ("0" * 32, "not-an-id", "../../etc/passwd"):
        response = client.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert client.delete(f"/api/v1/jobs/{job_id}").status_code == 404


def test_redis_down_gives_a_fast_503(tiny_models: TinyModels) -> None:
    client = create_app({"redis_url": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    start = time.monotonic()
    response = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=6)})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"
    assert client.get("/api/v1/jobs/" + "0" * 32).status_code == 503
    assert client.get("/api/v1/ready").status_code == 503
    assert time.monotonic() - start < 6
    assert client.get("/api/v1/health").status_code == 200


def test_ready_needs_redis_and_a_live_worker(
    redis_db: str, tiny_models: TinyModels, tmp_path: Path
) -> None:
    from tests.conftest import service_env

    url = redis_db  # its own database: the session worker does not count
    client = create_app({"redis_url": url}).test_client()
    assert client.get("/api/v1/ready").get_json()["error"]["code"] == "no_workers"
    worker = Worker(service_env(tiny_models, url), tmp_path / "worker.log")
    try:
        # Celery logs "ready." as its ready signal goes out; the first heartbeat follows it.
        ready = wait_for(
            lambda: (answer := client.get("/api/v1/ready")).status_code == 200 and answer,
            10,
            "the worker's first heartbeat",
        )
        assert ready.get_json()["workers"] == 1
        assert set(ready.get_json()["models"]) == {"translation", "summary"}
        assert str(tiny_models.translation) not in ready.get_data(as_text=True), "no paths"
    finally:
        worker.stop()
    gone = client.get("/api/v1/ready")
    assert gone.status_code == 503
    assert gone.get_json()["error"]["code"] == "no_workers"


def test_openapi_document(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert {"/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/health", "/api/v1/ready"} <= set(
        document["paths"]
    )
    jsonschema.Draft202012Validator.check_schema(
        {"$ref": "#/components/schemas/Job", "components": document["components"]}
    )


def test_the_web_process_never_imports_torch(redis_url: str, tmp_path: Path) -> None:
    script = f"""
import io, sys
from service import create_app
client = create_app({{"redis_url": {redis_url!r}}}).test_client()
text = "De minister zei dinsdag dat er nieuwe plannen komen voor de dijken in het land."
assert client.post("/api/v1/jobs", json={{"text": text}}).status_code in (200, 202)
upload = {{"file": (io.BytesIO(text.encode()), "a.txt")}}
token = {{"X-CSRFToken": client.get("/api/v1/csrf").get_json()["csrf_token"]}}
assert client.post("/api/v1/jobs", data=upload, headers=token).status_code in (200, 202)
client.get("/api/v1/ready")
heavy = sorted(m for m in ("torch", "transformers", "ctranslate2") if m in sys.modules)
print(",".join(heavy) or "clean")
"""
    import subprocess

    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert output.stdout.strip().splitlines()[-1] == "clean", output.stderr


def test_every_api_answer_is_json_even_for_methods_and_unknown_paths(client: FlaskClient) -> None:
    unknown = client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    for method in ("TRACE", "PUT", "PATCH"):
        refused = client.open("/api/v1/jobs", method=method)
        assert refused.status_code == 405 and refused.is_json, method
        assert set(refused.headers["Allow"].split(", ")) >= {"POST", "OPTIONS"}
    options = client.options("/api/v1/jobs")
    assert options.status_code == 200 and options.is_json
    assert "POST" in options.get_json()["allow"] and "POST" in options.headers["Allow"]
    long_id = client.get("/api/v1/jobs/" + "a" * 8000)
    assert long_id.status_code == 404 and long_id.is_json


def test_json_nested_too_deeply_is_a_400(client: FlaskClient) -> None:
    for body in (b"[" * 100_000, b'{"text": ' + b"[" * 100_000):
        response = client.post("/api/v1/jobs", data=body, content_type="application/json")
        assert response.status_code == 400, response.data[:200]
        assert response.get_json()["error"]["code"] == "bad_request"


def test_cross_site_form_posts_are_refused(client: FlaskClient) -> None:
    """A page on another site can post a form here without asking; it cannot read our token."""
    text = unique_article(3, seed=8)
    for body in ({"text": text}, {"file": (io.BytesIO(text.encode()), "a.txt")}):
        response = client.post("/api/v1/jobs", data=body)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "csrf_required"
    plain = client.post("/api/v1/jobs", data=json.dumps({"text": text}), content_type="text/plain")
    assert plain.status_code == 415, "JSON must say so, which needs a preflight cross-site"


def test_a_cache_hit_points_at_the_result_and_copies_nothing(
    client: FlaskClient, live_worker: Worker, redis_server: RedisServer
) -> None:
    text = unique_article(30, seed=9)
    first = client.post("/api/v1/jobs", json={"text": text}).get_json()
    assert poll(client, first["id"])[-1]["status"] == "done"
    store = redis_server.client()
    hits = [client.post("/api/v1/jobs", json={"text": text}) for _ in range(20)]
    assert {hit.status_code for hit in hits} == {200}
    for hit in [*hits, client.get(first["links"]["self"])]:
        job_id = hit.get_json()["id"]
        record = store.hgetall(f"vertaal:job:{job_id}")
        assert b"result" not in record and record[b"result_key"].startswith(RESULT_PREFIX.encode())
        assert max(len(value) for value in record.values()) < 200, "a pointer, not a copy"
    # A cache hit's record is small (the worker's own record also holds its lease, worker and
    # start, a few hundred bytes more, whatever the size of the result).
    assert all(store.memory_usage(f"vertaal:job:{h.get_json()['id']}") < 2_000 for h in hits)

    store.delete(record[b"result_key"])  # the cache dropped it (memory pressure, say)
    gone = client.get(hits[0].get_json()["links"]["self"])
    assert gone.status_code == 410 and gone.get_json()["error"]["code"] == "result_gone"
    again = client.post("/api/v1/jobs", json={"text": text})
    assert again.status_code == 202, "translated again, not answered from a missing entry"


def test_a_full_queue_answers_503_queue_full(tmp_path: Path, tiny_models: TinyModels) -> None:
    server = RedisServer(tmp_path)
    try:
        client = create_app({"redis_url": server.url}).test_client()
        used = server.client().info("memory")["used_memory"]
        server.client().config_set("maxmemory", int(used * 1.1))  # 91% used: past high water
        response = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=10)})
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "queue_full"
        assert response.headers["Retry-After"]
        assert client.get("/api/v1/health").status_code == 200
    finally:
        server.stop()


def test_identical_text_never_joins_a_job_whose_worker_died(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db}).test_client()
    text = {"text": unique_article(3, seed=11)}
    first = client.post("/api/v1/jobs", json=text).get_json()["id"]
    assert client.post("/api/v1/jobs", json=text).get_json()["id"] == first, "queued: joined"
    store = redis.Redis.from_url(redis_db)
    delivery = store.hget(f"vertaal:job:{first}", "delivery").decode()
    jobs = create_app({"redis_url": redis_db}).extensions["vertaal"].jobs
    assert Leases(jobs).start(first, delivery, "gone", lease=0.001, cap=3).outcome == "running"
    due = ["vertaal:leases"], [10]
    wait_for(lambda: jobs.scripts.run("DUE", *due) == [first.encode()], 5, "the lease to lapse")
    assert client.post("/api/v1/jobs", json=text).get_json()["id"] != first


def test_ready_answers_from_heartbeats_without_asking_the_workers(
    app: Flask, live_worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broadcast ping waits a second for replies; heartbeats in Redis are one round trip."""

    def no_broadcast(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("/ready must not ping the workers over the broker")

    monkeypatch.setattr(app.extensions["vertaal"].celery.control, "ping", no_broadcast)
    ready = app.test_client().get("/api/v1/ready")
    assert ready.status_code == 200 and ready.get_json()["workers"] == 1


def test_polling_is_cheap_with_etags_and_the_status_view(
    redis_db: str, tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tiny_models, redis_url=redis_db)
    app = create_app(settings.model_dump())
    client = app.test_client()
    job_id = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=90)}).get_json()["id"]
    first = client.get(f"/api/v1/jobs/{job_id}?view=status")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]

    def unread(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a 304 does not read the job")

    with monkeypatch.context() as patched:
        patched.setattr(app.extensions["vertaal"].jobs, "get", unread)
        same = client.get(f"/api/v1/jobs/{job_id}?view=status", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.data == b"" and same.headers["ETag"] == etag
    full = client.get(f"/api/v1/jobs/{job_id}", headers={"If-None-Match": etag})
    assert full.status_code == 200 and full.headers["ETag"] != etag, "each view its own tag"

    run_queued_job(job_id, settings)
    moved = client.get(f"/api/v1/jobs/{job_id}?view=status", headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.get_json()["status"] == "done"
    assert "result" not in moved.get_json(), "the status view leaves the result out"
    done = client.get(f"/api/v1/jobs/{job_id}")
    assert done.get_json()["result"]["translation"]["paragraphs"]
    again = client.get(f"/api/v1/jobs/{job_id}", headers={"If-None-Match": done.headers["ETag"]})
    assert again.status_code == 304
    weak = client.get(
        f"/api/v1/jobs/{job_id}", headers={"If-None-Match": "W/" + done.headers["ETag"]}
    )
    assert weak.status_code == 304, "a tag a compressing proxy made weak still matches"
    bad = client.get(f"/api/v1/jobs/{job_id}?view=everything")
    assert bad.status_code == 400 and "view" in bad.get_json()["error"]["message"]
    assert client.get(f"/api/v1/jobs/{'0' * 32}?view=status").status_code == 404


def test_the_flagged_view_shows_only_the_sentences_to_check(
    redis_db: str, tiny_models: TinyModels
) -> None:
    settings = settings_for(tiny_models, redis_url=redis_db)
    client = create_app(settings.model_dump()).test_client()
    text = "Kabinet trekt 1,5 miljoen uit\n\n" + unique_article(4, seed=93)
    job_id = client.post("/api/v1/jobs", json={"text": text}).get_json()["id"]
    queued = client.get(f"/api/v1/jobs/{job_id}?view=flagged").get_json()
    assert queued["status"] == "queued" and not {"result", "flagged", "counts"} & set(queued)

    run_queued_job(job_id, settings)
    answer = client.get(f"/api/v1/jobs/{job_id}?view=flagged")
    body = answer.get_json()
    full = client.get(f"/api/v1/jobs/{job_id}")
    result = full.get_json()["result"]
    checks, source, english = result["checks"], result["source"], result["translation"]
    expected = [
        {"paragraph": None, "sentence": 0, "source": source["title"],
         "translation": english["title"], "checks": checks["title"]},
    ] if checks["title"] else []  # fmt: skip
    expected += [
        {"paragraph": p, "sentence": s, "source": source["paragraphs"][p][s],
         "translation": english["paragraphs"][p][s], "checks": flags}
        for p, paragraph in enumerate(checks["paragraphs"])
        for s, flags in enumerate(paragraph) if flags
    ]  # fmt: skip
    assert body["flagged"] == expected and len(expected) == checks["flagged"] > 0
    assert body["counts"] == checks["counts"]
    assert "result" not in body and body["status"] == "done"
    job_response_is_valid(client, body)

    etag = answer.headers["ETag"]
    assert etag != full.headers["ETag"] and etag.startswith('"flagged-')
    again = client.get(f"/api/v1/jobs/{job_id}?view=flagged", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get(f"/api/v1/jobs/{job_id}", headers={"If-None-Match": etag})
    assert other.status_code == 200, "each view its own tag"
    bad = client.get(f"/api/v1/jobs/{job_id}?view=flags")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["message"] == "view: must be 'full', 'status' or 'flagged'"
