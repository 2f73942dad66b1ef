"""Chaos: kill what can die, and check that every accepted job ends `done` exactly once.

Each test runs its own Redis (append-only file, as `vertaal up` starts it) and real worker
processes on a deliberately slow backend, with short leases so that recovery is quick:
a dead worker's job is queued again within about lease + sweep seconds. The web app answers
through Flask's test client. "Exactly once" is read from the `vertaal:job-ends` stream, which
`JobStore.end` appends to in the same atomic step that ends a job.
"""

import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient

from service import create_app
from tests.conftest import TinyModels, service_env
from tests.processes import RedisServer, Worker, wait_for
from tests.service.test_api import unique_article
from workers.jobs.store import JOB_ENDS

pytestmark = pytest.mark.slow

# Short enough to recover within seconds here; production uses 60 s leases, 10 s sweeps.
TIMING = {"lease_seconds": 3, "sweep_seconds": 0.5, "heartbeat_seconds": 0.5}
BATCH_SECONDS = 0.25  # each sentence takes this long on the slow backend (batch size 1)


class Stack:
    """A Redis, workers and the web app of one test's own; `settings` for both."""

    def __init__(self, tmp: Path, models: TinyModels, **settings: Any) -> None:
        self.tmp = tmp
        self.models = models
        self.settings = {**TIMING, **settings}
        self.redis = RedisServer(tmp / "redis")
        self.url = self.redis.url
        self.client: FlaskClient = create_app(
            {"redis_url": self.url, **self.settings}
        ).test_client()
        self.workers: list[Worker] = []

    def worker(self, **faults: str) -> Worker:
        """A worker on the slow backend; `faults` are tests/slow_backend.py's TEST_* ones."""
        env = {
            **service_env(self.models, self.url, engine="slow", batch_size=1, **self.settings),
            "TEST_BATCH_SECONDS": str(BATCH_SECONDS),
            **faults,
        }
        log = self.tmp / f"worker-{len(self.workers)}.log"
        started = Worker(env, log, command="tests.slow_backend")
        self.workers.append(started)
        return started

    def submit(self, sentences: int, seed: int) -> str:
        text = unique_article(sentences, seed=seed)
        response = self.client.post("/api/v1/jobs", json={"text": text, "summary": False})
        assert response.status_code == 202, response.get_json()
        job_id: str = response.get_json()["id"]
        return job_id

    def job(self, job_id: str, key: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body: dict[str, Any] = self.client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
        return body

    def metric(self, name: str, **labels: str) -> float:
        """One sample of /metrics (0 when it is not there)."""
        from prometheus_client.parser import text_string_to_metric_families

        text = self.client.get("/metrics").get_data(as_text=True)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0

    def running_on(self, job_id: str) -> int:
        """The pid of the worker process running the job, once it has made progress."""

        def found() -> int | None:
            record = redis.Redis.from_url(self.url).hgetall(f"vertaal:job:{job_id}")
            progress = record.get(b"progress", b"")
            if record.get(b"status") == b"running" and b'"translate"' in progress:
                return int(record[b"worker"].split()[-1])
            return None

        return int(str(wait_for(found, 60, f"job {job_id} to run")))

    def all_done_once(self, job_ids: list[str], timeout: float) -> None:
        wait_for(
            lambda: all(self.job(j)["status"] == "done" for j in job_ids), timeout, "every job"
        )
        ends = redis.Redis.from_url(self.url).xrange(JOB_ENDS)
        seen = Counter((e[b"job"].decode(), e[b"status"].decode()) for _, e in ends)
        assert {j: seen[(j, "done")] for j in job_ids} == dict.fromkeys(job_ids, 1)
        assert sum(seen.values()) == len(job_ids), f"no other ends: {seen}"

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.redis.stop()


@pytest.fixture
def stack(tmp_path: Path, tiny_models: TinyModels) -> Iterator[Stack]:
    made = Stack(tmp_path, tiny_models)
    yield made
    made.close()


def test_a_killed_worker_child_loses_no_job(stack: Stack) -> None:
    stack.worker()
    jobs = [stack.submit(12, seed=100 + i) for i in range(3)]
    os.kill(stack.running_on(jobs[0]), signal.SIGKILL)
    stack.all_done_once(jobs, timeout=60)
    assert stack.job(jobs[0])["progress"]["attempt"] == 2


def test_a_whole_worker_killed_and_replaced_loses_no_job(stack: Stack) -> None:
    first = stack.worker()
    jobs = [stack.submit(12, seed=110 + i) for i in range(3)]
    stack.running_on(jobs[0])
    first.kill_all()
    wait_for(lambda: stack.client.get("/api/v1/ready").status_code == 503, 10, "ready to turn 503")
    stack.worker()
    stack.all_done_once(jobs, timeout=90)
    assert stack.job(jobs[0])["progress"]["attempt"] == 2, "started over, and says so"


def test_two_workers_one_killed_lose_no_job(stack: Stack) -> None:
    stack.worker()
    stack.worker()
    jobs = [stack.submit(10, seed=120 + i) for i in range(4)]
    victim_pid = stack.running_on(jobs[0])
    victim = next(w for w in stack.workers if _owns(w, victim_pid))
    victim.kill_all()
    stack.all_done_once(jobs, timeout=90)


def test_redis_killed_and_restarted_loses_no_job_and_the_api_says_503(stack: Stack) -> None:
    stack.worker()
    jobs = [stack.submit(12, seed=130 + i) for i in range(4)]
    stack.running_on(jobs[0])
    stack.redis.kill()
    while_down = [
        stack.client.post("/api/v1/jobs", json={"text": unique_article(3, seed=139)}),
        stack.client.get(f"/api/v1/jobs/{jobs[1]}"),
        stack.client.delete(f"/api/v1/jobs/{jobs[2]}"),
        stack.client.get("/api/v1/ready"),
    ]
    assert [r.status_code for r in while_down] == [503] * 4
    assert all(r.is_json and r.get_json()["error"]["message"] for r in while_down)
    assert stack.client.get("/api/v1/health").status_code == 200
    stack.redis.restart()
    stack.all_done_once(jobs, timeout=120)
    attempts = [int(stack.redis.client().hget(f"vertaal:job:{j}", "attempts")) for j in jobs]
    assert attempts == [1] * len(jobs), "a Redis restart costs no job an attempt"


def _owns(worker: Worker, pid: int) -> bool:
    """Whether `pid` is the worker's process or one of its children."""
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[1])
    except (OSError, IndexError, ValueError):
        return False
    return worker.process.pid in (pid, parent)
