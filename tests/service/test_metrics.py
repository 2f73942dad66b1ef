"""`/metrics` against a live worker: Prometheus' format, jobs, queue, cache, workers, HTTP."""

from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from tests.processes import Worker, wait_for
from tests.service.test_api import poll, unique_article


def scrape(client, **headers: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:  # type: ignore[no-untyped-def]
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metrics_show_jobs_queue_cache_and_workers(redis_url: str, live_worker: Worker) -> None:
    client = create_app({"redis_url": redis_url}).test_client()
    text = {"text": unique_article(6, seed=140)}
    first = client.post("/api/v1/jobs", json=text).get_json()
    done = poll(client, first["id"])[-1]
    assert done["status"] == "done"
    assert client.post("/api/v1/jobs", json=text).status_code == 200  # from the cache

    # Finished jobs are counted by the job-ends stream's consumers, in the worker.
    finished = (("status", "done"),)
    found = wait_for(
        lambda: (f := scrape(client)).get("vertaal_jobs_finished_total", {}).get(finished, 0)
        >= 2 and f,
        30, "both ends to be counted",
    )  # fmt: skip
    assert isinstance(found, dict)
    assert found["vertaal_jobs_submitted_total"][(("outcome", "cached"),)] == 1
    assert found["vertaal_jobs_submitted_total"][(("outcome", "created"),)] == 1
    assert found["vertaal_cache_lookups_total"][(("level", "article"), ("result", "hit"))] == 1
    assert found["vertaal_cache_lookups_total"][(("level", "sentence"), ("result", "miss"))] >= 6
    assert found["vertaal_workers"][()] == 1
    assert found["vertaal_workers_busy"][()] == 0
    assert found["vertaal_job_duration_seconds_count"][()] >= 1
    assert found["vertaal_sentences_per_second_count"][()] >= 1
    # Random models flag plenty; counted once, though the cache answered the same result again.
    flags = {labels[0][1]: n for labels, n in found["vertaal_sentence_flags_total"].items()}
    assert flags == done["result"]["checks"]["counts"] and flags
    # The worker loaded its models before this test's counts were reset: the family is there.
    assert "# TYPE vertaal_model_load_seconds histogram" in client.get("/metrics").text
    requests = found["vertaal_http_request_duration_seconds_count"]
    submitted = [labels for labels in requests if ("endpoint", "api.create_job") in labels]
    assert any(("status", "202") in labels for labels in submitted)
    assert any(("status", "200") in labels for labels in submitted)
    assert found["vertaal_redis_up"][()] == 1


def test_metrics_can_require_a_token_and_count_what_waits(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db, "metrics_token": "s3cret"}).test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    for seed in (141, 142):  # no worker listens here: both wait
        client.post("/api/v1/jobs", json={"text": unique_article(3, seed=seed)})
    found = scrape(client, Authorization="Bearer s3cret")
    assert found["vertaal_queue_depth"][(("queue", "vertaal"),)] == 2
    assert found["vertaal_workers"][()] == 0 and found["vertaal_workers_busy"][()] == 0


def test_metrics_say_when_redis_is_gone(tiny_models: object) -> None:
    from tests.processes import free_port

    client = create_app({"redis_url": f"redis://127.0.0.1:{free_port()}/0"}).test_client()
    assert scrape(client)["vertaal_redis_up"][()] == 0
