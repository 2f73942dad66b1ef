"""Job records: atomic status moves, and the one place where every job ends."""

import ast
import json
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from flask import Flask

import workers.jobs
import workers.tasks
from service import create_app
from tests.conftest import TinyModels
from tests.processes import ROOT
from tests.service.test_api import unique_article
from tests.service.test_web import ENGLISH, csrf_token
from workers.cache import publish_signature
from workers.celery_app import TASK_NAME, create_celery
from workers.connections import redis_client
from workers.engines.signature import worker_signature
from workers.job_record import JobOptions, JobRecord, JobStatus, Progress
from workers.jobs import JobStore
from workers.pipeline.article import RawDocument
from workers.settings import Settings
from workers.tasks import MAX_ATTEMPTS, run_job


def test_job_store_moves_only_from_the_statuses_it_names(redis_db: str) -> None:
    store = JobStore(redis_client(redis_db), ttl=60)
    job = store.create(RawDocument("Tekst."), JobOptions())
    assert store.start(job.id, "w")
    assert store.end(job.id, JobStatus.CANCELLED)
    assert store.record_progress(job.id, Progress(1, 2, "translate")) is JobStatus.CANCELLED
    assert not store.start(job.id, "w"), "a cancelled job is not restarted"
    assert not store.end(job.id, JobStatus.CANCELLED), "a job ends once"
    record = store.get(job.id)
    assert record is not None and record.status is JobStatus.CANCELLED
    assert record.progress.stage == "starting"
    assert store.get_input(job.id) is None, "the input is dropped once the job is over"
    view = record.view("/api/v1/jobs/x").to_json()
    assert json.loads(json.dumps(view))["status"] == "cancelled"
    assert "result" not in view and "error" not in view


def test_end_refuses_an_outcome_that_does_not_fit_the_status(redis_db: str) -> None:
    store = JobStore(redis_client(redis_db), ttl=60)
    job = store.create(RawDocument("Tekst."), JobOptions())
    with pytest.raises(ValueError):
        store.end(job.id, JobStatus.DONE)
    with pytest.raises(ValueError):
        store.end(job.id, JobStatus.RUNNING)
    assert store.status(job.id) is JobStatus.QUEUED


@pytest.fixture
def ended(monkeypatch: pytest.MonkeyPatch) -> list[JobRecord]:
    """Every job end announced, through whichever door it happened."""
    heard: list[JobRecord] = []
    monkeypatch.setattr(workers.jobs, "job_end_listeners", lambda settings: [heard.append])
    return heard


def test_every_path_to_a_final_status_goes_through_end(
    ended: list[JobRecord], redis_db: str, tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        redis_url=redis_db,
        translation_model=str(tiny_models.translation),
        summary_model=str(tiny_models.summary),
        converted_dir=tiny_models.converted,
        threads=1,
    )
    app: Flask = create_app(settings.model_dump())
    client = app.test_client()
    store = workers.jobs.job_store(settings)
    publish_signature(store.redis, worker_signature(settings))  # as a worker does at start

    def submit(text: str, **options: Any) -> str:
        job_id: str = client.post("/api/v1/jobs", json={"text": text, **options}).get_json()["id"]
        return job_id

    outcomes: dict[str, tuple[str, str | None]] = {}

    def expect(path: str, job_id: str, status: str, code: str | None = None) -> None:
        outcomes[path] = (job_id, code)
        record = store.get(job_id)
        assert record is not None and record.status == status, path
        assert (record.error.code if record.error else None) == code, path

    done = submit(unique_article(3, seed=60))
    run_job(done, settings, worker="test")
    expect("worker done", done, "done")

    cached = submit(unique_article(3, seed=60))
    expect("answered from the cache", cached, "done")

    not_dutch = store.create(RawDocument(ENGLISH), JobOptions()).id  # the API would refuse it
    run_job(not_dutch, settings, worker="test")
    expect("article refused by the worker", not_dutch, "failed", "not_dutch")

    lost_input = submit(unique_article(3, seed=61))
    store.redis.delete(f"vertaal:job:{lost_input}:input")
    run_job(lost_input, settings, worker="test")
    expect("input lost", lost_input, "failed", "input_lost")

    killer = submit(unique_article(3, seed=62))
    store.redis.hset(f"vertaal:job:{killer}", "attempts", MAX_ATTEMPTS)
    run_job(killer, settings, worker="test")
    expect("attempt cap", killer, "failed", "worker_lost")

    slow = submit(unique_article(3, seed=63))

    def out_of_time(*args: Any, **kwargs: Any) -> Any:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(workers.tasks, "translate_article", out_of_time)
    run_job(slow, settings, worker="test")
    expect("soft time limit", slow, "failed", "timeout")

    killed = submit(unique_article(3, seed=64))
    task = create_celery(settings).tasks[TASK_NAME]
    task.on_failure(TimeLimitExceeded(6), "task-id", [killed], {}, None)
    expect("hard time limit", killed, "failed", "timeout")

    by_api = submit(unique_article(3, seed=65))
    assert client.delete(f"/api/v1/jobs/{by_api}").status_code == 200
    expect("cancelled through the API", by_api, "cancelled")

    by_page = submit(unique_article(3, seed=66))
    client.post(f"/jobs/{by_page}/cancel", data={"csrf_token": csrf_token(client)})
    expect("cancelled on the job page", by_page, "cancelled")

    heard = [(job.id, job.error.code if job.error else None) for job in ended]
    assert sorted(heard) == sorted(outcomes.values()), "each end announced exactly once"
    assert all(job.status.finished for job in ended)


def _move_calls() -> list[tuple[str, str, str | None]]:
    """(module, enclosing function, status written) for every status write in the product."""
    found = []
    for path in sorted((ROOT / name) for name in ("cli", "service", "workers")):
        for source in path.rglob("*.py"):
            tree = ast.parse(source.read_text())
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef):
                    continue
                for call in ast.walk(function):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr in ("_move", "_transition")
                    ):
                        status = next(
                            (ast.unparse(k.value) for k in call.keywords if k.arg == "status"),
                            None,
                        )
                        found.append((source.relative_to(ROOT).as_posix(), function.name, status))
    return found


def test_only_end_can_write_a_final_status() -> None:
    calls = _move_calls()
    assert {module for module, _, _ in calls} == {"workers/jobs.py"}
    for _, function, status in calls:
        if function != "_move":
            assert status is None or "RUNNING" in status or "QUEUED" in status, (
                f"{function} writes {status}; final statuses are written by JobStore.end only"
            )
    assert ("workers/jobs.py", "end", None) in calls
