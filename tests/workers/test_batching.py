"""A worker takes queued articles together with its own (their summaries batched) and ends
each job on its own: results as alone, per-job cancel, a dead worker's claimed jobs queued
again, and jobs that started before, documents and large articles left to run alone."""

import time
from typing import Any

import pytest
import redis
from flask import Flask

import workers.tasks
import workers.translating
from service import create_app
from tests.conftest import TinyModels, run_queued_job, settings_for, user_of
from tests.processes import RedisServer
from tests.service.test_api import unique_article
from workers.celery_app import create_celery
from workers.jobs.leases import Leases
from workers.jobs.record import JobOptions
from workers.jobs.store import JobStore, job_store
from workers.jobs.sweeper import Sweeper
from workers.operations import heartbeats
from workers.operations.timeline import STAGES, read_timeline
from workers.pipeline.article import SourceFile
from workers.settings import Settings


@pytest.fixture
def setup(redis_db: str, tiny_models: TinyModels) -> tuple[Flask, Settings]:
    settings = settings_for(tiny_models, redis_url=redis_db, threads=1)
    return create_app(settings.model_dump()), settings


def submit(app: Flask, seed: int, **fields: Any) -> str:
    body = {"text": unique_article(4, seed=seed), **fields}
    answer = user_of(app).post("/api/v1/jobs", json=body)
    assert answer.status_code == 202, answer.get_json()
    job_id: str = answer.get_json()["id"]
    return job_id


def record(settings: Settings, job_id: str) -> dict[str, str]:
    raw = redis.Redis.from_url(settings.redis_url).hgetall(f"vertaal:job:{job_id}")
    return {k.decode(): v.decode() for k, v in raw.items()}


def test_queued_articles_run_together_and_each_gets_its_own_result(
    setup: tuple[Flask, Settings],
) -> None:
    app, settings = setup
    ids = [submit(app, 300 + n, summary=n != 2) for n in range(4)]
    messages = {job_id: record(settings, job_id)["delivery"] for job_id in ids}
    run_queued_job(ids[0], settings)
    jobs = [job_store(settings).get(job_id) for job_id in ids]
    assert all(job is not None and job.status.value == "done" for job in jobs)
    assert [job.result.summary is not None for job in jobs if job and job.result] == [
        True, True, False, True,
    ]  # fmt: skip
    assert {record(settings, job_id)["worker"] for job_id in ids} == {"test"}
    assert all(record(settings, job_id)["attempts"] == "1" for job_id in ids)

    # The claimed jobs' own messages arrive later: each finds its job over, and skips.
    for job_id in ids[1:]:
        workers.tasks.run_job(job_id, messages[job_id], settings, worker="late")
    assert all(record(settings, job_id)["worker"] == "test" for job_id in ids)


def test_each_batch_records_where_its_time_went(setup: tuple[Flask, Settings]) -> None:
    """One timeline entry per batch: its articles, and seconds per stage that add up to the
    batch's wall time (other: what no stage covers); the next batch of the same process
    counts the time between them as idle."""
    app, settings = setup
    client = redis.Redis.from_url(settings.redis_url)
    since = time.time()
    ids = [submit(app, 330 + n) for n in range(3)]
    started = time.monotonic()
    run_queued_job(ids[0], settings)
    wall = time.monotonic() - started
    time.sleep(0.3)
    late = submit(app, 334, summary=False)
    run_queued_job(late, settings)

    first, second = read_timeline(client, since)
    assert (first["articles"], second["articles"]) == (3, 1)
    assert first["worker"] == second["worker"] == "test"
    assert set(STAGES) <= set(first)
    assert 50 < float(first["peak_mb"]) <= float(second["peak_mb"]), "the process's peak so far"
    for stage in ("claim", "read", "translate", "summarize", "write"):
        assert float(first[stage]) > 0, stage
    assert float(second["summarize"]) < 0.05  # none wanted
    busy = sum(float(first[s]) for s in STAGES if s != "idle")
    assert busy <= wall and busy > 0.9 * wall, (busy, wall)
    assert float(second["idle"]) >= 0.3
    assert read_timeline(client, time.time() + 1) == []


def test_results_in_a_batch_equal_results_alone(
    tiny_models: TinyModels, redis_server: RedisServer
) -> None:
    results: dict[int, list[dict[str, Any]]] = {}
    for batch in (1, 4):  # each in a database of its own: nothing comes from a cache
        url = redis_server.fresh_database()
        settings = settings_for(tiny_models, redis_url=url, threads=1, batch_articles=batch)
        app = create_app(settings.model_dump())
        ids = [submit(app, 310 + n) for n in range(3)]
        for job_id in ids:
            if record(settings, job_id)["status"] == "queued":
                run_queued_job(job_id, settings)
        claimed = [record(settings, job_id)["delivery"].count(".") > 0 for job_id in ids]
        assert claimed == ([False] * 3 if batch == 1 else [False, True, True])
        store = job_store(settings)
        found = [store.get(job_id) for job_id in ids]
        results[batch] = [
            {**job.result.to_dict(), "timings": {}} for job in found if job and job.result
        ]
    assert len(results[1]) == 3 and results[1] == results[4]


def test_with_several_workers_each_takes_only_its_share_of_the_queue(
    setup: tuple[Flask, Settings],
) -> None:
    app, settings = setup
    client = redis.Redis.from_url(settings.redis_url)
    heartbeats.beat(client, "one", {"processes": 1}, every=60)
    heartbeats.beat(client, "two", {"processes": 2}, every=60)
    ids = [submit(app, 350 + n) for n in range(8)]
    run_queued_job(ids[0], settings)
    statuses = [record(settings, job_id)["status"] for job_id in ids]
    # 8 articles among 3 processes: this one takes its own and 2 more, and leaves the rest.
    assert statuses == ["done"] * 3 + ["queued"] * 5
    run_queued_job(ids[3], settings)  # 5 left among 3: its own and 1 more
    assert [record(settings, job_id)["status"] for job_id in ids[3:]] == ["done"] * 2 + [
        "queued"
    ] * 3


def test_a_job_cancelled_inside_a_batch_stops_alone(
    setup: tuple[Flask, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = setup
    ids = [submit(app, 320 + n) for n in range(3)]
    real = workers.translating.finish_articles

    def cancel_the_second_first(*args: Any, **kwargs: Any) -> Any:
        assert user_of(app).delete(f"/api/v1/jobs/{ids[1]}").status_code == 200
        return real(*args, **kwargs)

    monkeypatch.setattr(workers.translating, "finish_articles", cancel_the_second_first)
    run_queued_job(ids[0], settings)
    statuses = [record(settings, job_id)["status"] for job_id in ids]
    assert statuses == ["done", "cancelled", "done"]


def test_jobs_that_started_before_documents_and_big_articles_run_alone(
    setup: tuple[Flask, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = setup
    retried = submit(app, 330)
    redis.Redis.from_url(settings.redis_url).hset(f"vertaal:job:{retried}", "attempts", 1)
    big = submit(app, 331, text=unique_article(40, seed=331))
    document = (
        job_store(settings)
        .create(
            SourceFile("bericht.txt", unique_article(3, seed=332).encode()),
            JobOptions(summary=False, kind="document"),
        )
        .id
    )
    monkeypatch.setattr(workers.tasks, "BATCH_MAX_BYTES", 2_000)
    leader = submit(app, 333)
    run_queued_job(leader, settings)
    assert record(settings, leader)["status"] == "done"
    assert [record(settings, j)["status"] for j in (retried, big, document)] == ["queued"] * 3


def test_claimed_jobs_of_a_worker_that_died_are_queued_again(
    setup: tuple[Flask, Settings],
) -> None:
    app, settings = setup
    ids = [submit(app, 340 + n) for n in range(3)]
    store: JobStore = job_store(settings)
    claimed = Leases(store).claim_queued(
        "a worker that dies", "d0", lease=0.2, count=5, budget=10**6
    )
    assert sorted(c.job_id for c in claimed) == sorted(ids)
    assert all(record(settings, j)["status"] == "running" for j in ids)
    time.sleep(0.3)  # the lease lapses: nobody renews it
    # check_after below the Redis's uptime: no grace after a (re)start, which a Redis started
    # for this session would still be in with a longer one
    while int(store.redis.info("server")["uptime_in_seconds"]) < 1:
        time.sleep(0.1)
    sweeper = Sweeper(store, create_celery(settings), check_after=0.5, every=1, name="test")
    assert sweeper.sweep() == 3
    for job_id in ids:
        assert record(settings, job_id)["status"] == "queued"
        assert record(settings, job_id)["attempts"] == "1"
    run_queued_job(ids[0], settings)
    assert record(settings, ids[0])["status"] == "done"
    assert [record(settings, j)["status"] for j in ids[1:]] == ["queued", "queued"], (
        "a job that started before runs alone, and takes no other with it"
    )
