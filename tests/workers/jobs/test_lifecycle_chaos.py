"""Chaos for the job lifecycle: ends heard durably whoever wrote them, a replaced worker that
cannot end a job, clocks that disagree, batches that fail honestly, and stops that cost no
attempt. Each test runs its own Redis and real worker processes (tests/slow_backend.py, whose
faults are asked for through the environment), and reads "exactly once" from the job-ends
stream."""

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import TinyModels
from tests.processes import Receiver, wait_for
from tests.service.test_api import unique_article
from tests.service.test_auth import bearer, create_key
from tests.workers.jobs.test_chaos import Stack
from workers.jobs.layout import JOB_ENDS, MAX_ATTEMPTS, job_key
from workers.operations.keys import KeyStore
from workers.operations.webhooks import verify

pytestmark = pytest.mark.slow

HOOKS = {"webhook_allow": "127.0.0.1", "webhook_retry_base": 0.3, "webhook_retry_window": 10}


@pytest.fixture
def stack(tmp_path: Path, tiny_models: TinyModels) -> Iterator[Stack]:
    made = Stack(tmp_path, tiny_models, **HOOKS)
    yield made
    made.close()


def ends_of(stack: Stack) -> Counter[tuple[str, str]]:
    entries = redis.Redis.from_url(stack.url).xrange(JOB_ENDS)
    return Counter((e[b"job"].decode(), e[b"status"].decode()) for _, e in entries)


def keyed_job(stack: Stack, key: str, receiver: Receiver, seed: int) -> str:
    body = {"text": unique_article(3, seed=seed), "summary": False, "callback_url": receiver.url}
    answer = stack.client.post("/api/v1/jobs", json=body, headers=bearer(key))
    assert answer.status_code == 202, answer.get_json()
    job_id: str = answer.get_json()["id"]
    return job_id


def one_signed_call(receiver: Receiver, secret: str, job_id: str, status: str) -> dict[str, Any]:
    wait_for(lambda: receiver.calls, 60, "the callback")
    time.sleep(2)  # time for a second, duplicate call to arrive, if one were coming
    assert len(receiver.calls) == 1, [json.loads(c[2])["id"] for c in receiver.calls]
    _, headers, raw = receiver.calls[0]
    assert verify(secret, headers["X-Vertaal-Signature"], raw)
    sent: dict[str, Any] = json.loads(raw)
    assert (sent["id"], sent["status"]) == (job_id, status)
    return sent


def test_a_job_the_sweeper_fails_is_called_back_counted_and_refunded_once(
    stack: Stack, receiver: Receiver
) -> None:
    key_id, key = create_key(stack.url, "--chars-per-month", "5000")
    secret = KeyStore(redis.Redis.from_url(stack.url)).get(key_id).webhook_secret  # type: ignore[union-attr]
    job_id = keyed_job(stack, key, receiver, seed=400)
    usage = KeyStore(redis.Redis.from_url(stack.url))
    assert usage.usage(key_id) > 0, "reserved when accepted"
    # As if its worker had died on its last allowed attempt: running, lease long lapsed.
    redis.Redis.from_url(stack.url).hset(
        job_key(job_id),
        mapping={"status": "running", "attempts": MAX_ATTEMPTS, "delivery": "ghost",
                 "worker": "ghost@host pid 9", "lease_until": 0},
    )  # fmt: skip
    stack.worker()  # its sweeper finds it; its consumers hear the end
    sent = one_signed_call(receiver, secret, job_id, "failed")
    assert sent["error"]["code"] == "worker_lost" and "ghost@host pid 9" in sent["error"]["message"]
    wait_for(lambda: usage.usage(key_id) == 0, 20, "the reservation to be refunded")
    finished = stack.metric("vertaal_jobs_finished_total", status="failed")
    assert finished == 1
    assert ends_of(stack) == Counter({(job_id, "failed"): 1})


def test_a_worker_killed_between_an_end_and_its_callback_still_calls_back_once(
    stack: Stack, receiver: Receiver
) -> None:
    key_id, key = create_key(stack.url)
    secret = KeyStore(redis.Redis.from_url(stack.url)).get(key_id).webhook_secret  # type: ignore[union-attr]
    doomed = stack.worker(TEST_DIE_BEFORE_WEBHOOK="1")
    job_id = keyed_job(stack, key, receiver, seed=410)
    wait_for(lambda: doomed.process.poll() is not None, 60, "the worker to die after the end")
    assert stack.job(job_id, key)["status"] == "done" and not receiver.calls
    stack.worker()  # takes the dead consumer's pending entry over
    one_signed_call(receiver, secret, job_id, "done")
    assert ends_of(stack) == Counter({(job_id, "done"): 1})


def test_a_worker_whose_lease_was_taken_over_cannot_end_the_job(stack: Stack) -> None:
    paused = stack.worker()
    job_id = stack.submit(16, seed=420)
    stack.running_on(job_id)
    os.killpg(paused.process.pid, signal.SIGSTOP)  # a paused VM, a network split
    try:
        replacement = stack.worker()  # its sweeper finds the lapsed lease; it runs the job
        wait_for(lambda: stack.job(job_id)["status"] == "done", 90, "the second run to finish")
    finally:
        os.killpg(paused.process.pid, signal.SIGCONT)
    assert stack.job(job_id)["progress"]["attempt"] == 2
    time.sleep(3 * 0.25 + 2)  # the paused run resumes: a batch or two, then its lease renewal
    assert ends_of(stack) == Counter({(job_id, "done"): 1}), "the current run's end stands"
    record = redis.Redis.from_url(stack.url).hgetall(job_key(job_id))
    assert record[b"worker"].decode().startswith(replacement.name)


def test_a_worker_whose_clock_is_ten_minutes_off_requeues_nothing(stack: Stack) -> None:
    stack.worker(TEST_CLOCK_OFFSET="600")
    jobs = [stack.submit(6, seed=430 + i) for i in range(3)]
    assert stack.client.get("/api/v1/ready").status_code == 200, "its heartbeats count"
    stack.all_done_once(jobs, timeout=90)
    assert [stack.job(j)["progress"]["attempt"] for j in jobs] == [1, 1, 1]


def test_a_batch_whose_models_fail_to_load_ends_every_job_at_once(stack: Stack) -> None:
    jobs = [stack.submit(4, seed=440 + i) for i in range(3)]
    stack.worker(TEST_FAIL_LOAD="1")
    wait_for(lambda: all(stack.job(j)["status"] == "failed" for j in jobs), 30, "every job to fail")
    assert {stack.job(j)["error"]["code"] for j in jobs} == {"model_unavailable"}
    assert ends_of(stack) == Counter({(j, "failed"): 1 for j in jobs})


def test_a_warm_shutdown_hands_a_batch_back_without_spending_attempts(stack: Stack) -> None:
    jobs = [stack.submit(12, seed=450 + i) for i in range(3)]
    stopping = stack.worker()
    stack.running_on(jobs[0])
    started = time.monotonic()
    stopping.process.send_signal(signal.SIGTERM)
    stopping.process.wait(timeout=30)
    assert time.monotonic() - started < 20, "it does not wait for the batch to finish"
    assert all(stack.job(j)["status"] == "queued" for j in jobs)
    stack.worker()
    stack.all_done_once(jobs, timeout=120)
    attempts = redis.Redis.from_url(stack.url)
    assert [int(attempts.hget(job_key(j), "attempts")) for j in jobs] == [1, 1, 1]
