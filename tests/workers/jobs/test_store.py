"""Job records: atomic status moves, and the one place where every job ends."""

import ast
import json
import re
from collections import Counter
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from flask import Flask

import workers.translating
from service import create_app
from tests.conftest import TinyModels, run_queued_job, settings_for
from tests.processes import ROOT
from tests.service.test_api import unique_article
from tests.service.test_web import ENGLISH, csrf_token
from workers.cache import publish_signature
from workers.celery_app import TASK_NAME, create_celery
from workers.connections import redis_client
from workers.engines.signature import worker_signature
from workers.jobs import scripts as job_scripts
from workers.jobs.layout import JOB_ENDS, MAX_ATTEMPTS, job_key
from workers.jobs.leases import Leases, Start
from workers.jobs.record import JobOptions, JobStatus, Progress
from workers.jobs.store import FileOut, JobStore, job_store
from workers.pipeline.article import SourceFile


def test_job_store_moves_only_from_the_statuses_it_names(redis_db: str) -> None:
    store = JobStore(redis_client(redis_db), ttl=60)
    leases = Leases(store)
    job = store.create(SourceFile.pasted("Tekst."), JobOptions())
    assert job.delivery
    assert leases.start(job.id, "another", "w", lease=10, cap=3).outcome == "stale"
    assert leases.start(job.id, job.delivery, "w", lease=10, cap=3) == Start("running", 1)
    assert leases.start(job.id, job.delivery, "w", lease=10, cap=3).outcome == "busy", (
        "a second copy of the message finds the job running under a live lease"
    )
    assert store.end(job.id, JobStatus.CANCELLED)
    progress = Progress(1, 2, "translate", 1)
    assert leases.renew(job.id, job.delivery, lease=10, progress=progress) == "cancelled"
    assert leases.start(job.id, job.delivery, "w", lease=10, cap=3).outcome == "cancelled"
    assert not store.end(job.id, JobStatus.CANCELLED), "a job ends once"
    record = store.get(job.id)
    assert record is not None and record.status is JobStatus.CANCELLED
    assert record.progress == Progress(0, 0, "starting", 1), "no progress after the end"
    assert store.get_input(job.id) is None, "the input is dropped once the job is over"
    assert store.scripts.run("DUE", ["vertaal:leases"], [10]) == [], "and its lease"
    view = record.view("/api/v1/jobs/x").to_json()
    assert json.loads(json.dumps(view))["status"] == "cancelled"
    assert "result" not in view and "error" not in view and "token" not in view
    ends = store.redis.xrange(JOB_ENDS)
    assert [(e[b"job"], e[b"status"]) for _, e in ends] == [(job.id.encode(), b"cancelled")]


def test_only_the_current_delivery_ends_a_job(redis_db: str) -> None:
    """Fencing: a worker whose job was given to another delivery cannot end it, nor store a
    document's file; whoever is not a worker (API, sweeper, cache) ends it without one."""
    store = JobStore(redis_client(redis_db), ttl=60)
    job = store.create(SourceFile("doc.txt", b"Tekst."), JobOptions(kind="document"))
    assert job.delivery
    Leases(store).start(job.id, job.delivery, "w", lease=10, cap=3)
    assert not store.fail(job.id, "internal_error", "late", delivery="an old one")
    file = FileOut(b"translated", "text/plain")
    assert not store.fail(job.id, "x", "y", delivery="stale") and store.get_file(job.id) is None
    assert store.status(job.id) is JobStatus.RUNNING
    assert store.redis.xlen(JOB_ENDS) == 0, "a refused end is not announced"
    result = _result()
    assert store.end(job.id, JobStatus.DONE, result=result, delivery=job.delivery, file=file)
    assert store.get_file(job.id) == file
    entry = store.redis.xrange(JOB_ENDS)[0][1]
    assert entry[b"billed"] == str(result.characters()).encode()


def _result() -> Any:
    from workers.pipeline.article import Models, Result, Source, Translation

    return Result(
        source=Source(title=None, date=None, paragraphs=[["Een zin.", "Nog een."]]),
        translation=Translation(title=None, paragraphs=[["A sentence.", "Another."]]),
        summary=None, removed=[], models=Models("m", None), timings={"total": 1.0},
    )  # fmt: skip


def test_end_refuses_an_outcome_that_does_not_fit_the_status(redis_db: str) -> None:
    store = JobStore(redis_client(redis_db), ttl=60)
    job = store.create(SourceFile.pasted("Tekst."), JobOptions())
    with pytest.raises(ValueError):
        store.end(job.id, JobStatus.DONE)
    with pytest.raises(ValueError):
        store.end(job.id, JobStatus.RUNNING)
    assert store.status(job.id) is JobStatus.QUEUED


def test_a_job_not_yet_enqueued_is_invisible_to_workers(redis_db: str) -> None:
    """A submission's job is recorded before its dedupe claim is won; a worker batching
    queued articles must not take it meanwhile (it may be deleted as a duplicate)."""
    store = JobStore(redis_client(redis_db), ttl=60)
    leases = Leases(store)
    job = store.create(SourceFile.pasted("Een zin."), JobOptions(), check_after=None)
    assert leases.claim_queued("w", "d", lease=10, count=5, budget=10_000) == []
    store.enqueue(job.id, 60)
    assert [c.job_id for c in leases.claim_queued("w", "d", lease=10, count=5, budget=10_000)] == [
        job.id
    ]
    store.delete(job.id)
    assert store.redis.scard("vertaal:running") == 0, "a deleted job is never counted running"


def test_every_path_to_a_final_status_goes_through_end(
    redis_db: str, tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(
        tiny_models,
        redis_url=redis_db,
        threads=1,
    )
    app: Flask = create_app(settings.model_dump())
    client = app.test_client()
    store = job_store(settings)
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
    run_queued_job(done, settings)
    expect("worker done", done, "done")

    cached = submit(unique_article(3, seed=60))
    expect("answered from the cache", cached, "done")

    not_dutch = store.create(SourceFile.pasted(ENGLISH), JobOptions()).id  # the API would refuse it
    run_queued_job(not_dutch, settings)
    expect("article refused by the worker", not_dutch, "failed", "not_dutch")

    lost_input = submit(unique_article(3, seed=61))
    store.redis.delete(job_key(lost_input) + ":input")
    run_queued_job(lost_input, settings)
    expect("input lost", lost_input, "failed", "input_lost")

    killer = submit(unique_article(3, seed=62))
    store.redis.hset(job_key(killer), "attempts", MAX_ATTEMPTS)
    run_queued_job(killer, settings)
    expect("attempt cap", killer, "failed", "worker_lost")

    slow = submit(unique_article(3, seed=63))

    def out_of_time(*args: Any, **kwargs: Any) -> Any:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(workers.translating, "finish_articles", out_of_time)
    run_queued_job(slow, settings)
    expect("soft time limit", slow, "failed", "timeout")

    killed = submit(unique_article(3, seed=64))
    task = create_celery(settings).tasks[TASK_NAME]
    delivery = store.get(killed).delivery  # type: ignore[union-attr]
    task.on_failure(TimeLimitExceeded(6), "task-id", [killed, delivery], {}, None)
    expect("hard time limit", killed, "failed", "timeout")

    by_api = submit(unique_article(3, seed=65))
    assert client.delete(f"/api/v1/jobs/{by_api}").status_code == 200
    expect("cancelled through the API", by_api, "cancelled")

    by_page = submit(unique_article(3, seed=66))
    client.post(f"/jobs/{by_page}/cancel", data={"csrf_token": csrf_token(client)})
    expect("cancelled on the job page", by_page, "cancelled")

    ends = store.redis.xrange(JOB_ENDS)
    heard = [(e[b"job"].decode(), e[b"code"].decode() or None) for _, e in ends]
    assert sorted(heard) == sorted(outcomes.values()), "each end in the stream exactly once"
    assert max(Counter(job for job, _ in heard).values()) == 1


def test_only_end_can_write_a_final_status() -> None:
    """Final statuses are written by one Lua script, run by JobStore.end alone; the other
    scripts move a job only between queued and running."""
    for name in job_scripts.NAMES:
        written = re.findall(r"'status', (\w+)", getattr(job_scripts, name))
        assert name == "END" or set(written) <= {"RUNNING", "QUEUED"}, (name, written)
        assert not re.search(
            r"'(queued|running|done|failed|cancelled)'", getattr(job_scripts, name)
        ), f"{name} spells a status; the prelude names them"
    callers = []
    for package in ("cli", "service", "workers"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef):
                    continue
                for call in ast.walk(function):
                    if (
                        isinstance(call, ast.Call)
                        and call.args
                        and isinstance(call.args[0], ast.Constant)
                        and call.args[0].value == "END"
                    ):
                        callers.append((path.relative_to(ROOT).as_posix(), function.name))
            if path.parent.name != "jobs":
                assert "workers.jobs.scripts" not in path.read_text(), path
    assert callers == [("workers/jobs/store.py", "end")]
