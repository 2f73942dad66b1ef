"""Chaos with Redis Sentinel: the master dies mid-queue and a replica takes over.

A master, a replica and three sentinels of the test's own (tests/processes.SentinelSet), a
real worker on the slow backend and the web app, all given the same `sentinel://` URL and
never restarted. "Ends once" is read from the `vertaal:job-ends` stream on the new master,
as in test_chaos.py.
"""

import time
from collections import Counter
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service import create_app
from tests.conftest import TinyModels, service_env
from tests.processes import SentinelSet, Worker, wait_for
from tests.service.test_api import unique_article
from tests.workers.jobs.test_chaos import BATCH_SECONDS, TIMING
from workers.connections import new_redis_client
from workers.jobs.layout import JOB_ENDS

pytestmark = pytest.mark.slow

SWITCH_SECONDS = 30  # a failover takes about 2-3 s here (DOWN_AFTER_MS 1000)


def submit(client: FlaskClient, seed: int) -> TestResponse:
    text = unique_article(8, seed=seed)
    return client.post("/api/v1/jobs", json={"text": text, "summary": False})


def test_master_killed_mid_queue_fails_over_and_every_job_ends_once(
    tmp_path: Path, tiny_models: TinyModels
) -> None:
    sentinels = SentinelSet(tmp_path / "redis")
    worker = None
    try:
        url = sentinels.url()
        client = create_app({"redis_url": url, **TIMING}).test_client()
        env = {
            **service_env(tiny_models, url, engine="slow", batch_size=1, **TIMING),
            "TEST_BATCH_SECONDS": str(BATCH_SECONDS),
        }
        worker = Worker(env, tmp_path / "worker.log", command="tests.slow_backend")
        accepted = [submit(client, seed=200 + i).get_json()["id"] for i in range(3)]
        wait_for(lambda: client.get(f"/api/v1/jobs/{accepted[0]}").get_json()["status"]
                 == "running", 60, "the first job to run")  # fmt: skip

        sentinels.kill_master()
        answers = _until_accepted_again(client, accepted)

        statuses = Counter(answer.status_code for answer in answers)
        assert set(statuses) <= {200, 202, 503}, statuses
        assert statuses[503], "the switch was seen"
        refused = [answer for answer in answers if answer.status_code == 503]
        assert all(answer.is_json and answer.get_json()["error"]["message"] for answer in refused)
        assert sentinels.master_port_now() == sentinels.replica_port

        wait_for(lambda: all(client.get(f"/api/v1/jobs/{j}").get_json()["status"] == "done"
                             for j in accepted), 90, "every accepted job")  # fmt: skip
        ends = Counter(
            (entry[b"job"].decode(), entry[b"status"].decode())
            for _, entry in new_redis_client(url).xrange(JOB_ENDS)
        )
        assert {j: ends[(j, "done")] for j in accepted} == dict.fromkeys(accepted, 1)
        others = {end: n for end, n in ends.items() if end[0] not in accepted}
        assert all(n == 1 for n in others.values()), f"no job ends twice: {others}"
        assert client.get("/api/v1/ready").status_code == 200
        assert new_redis_client(url).keys("LIMITS*"), "rate limits count on the master too"
    finally:
        if worker is not None:
            worker.stop()
        sentinels.stop()


def _until_accepted_again(client: FlaskClient, accepted: list[str]) -> list[TestResponse]:
    """Submit, read a job and ask for readiness until a submission is accepted again (on the
    promoted replica); every answer on the way."""
    answers: list[TestResponse] = []
    deadline = time.monotonic() + SWITCH_SECONDS
    for seed in range(300, 10_000):
        assert time.monotonic() < deadline, f"no failover within {SWITCH_SECONDS} s"
        posted = submit(client, seed)
        answers += [posted, client.get(f"/api/v1/jobs/{accepted[1]}"), client.get("/api/v1/ready")]
        if posted.status_code == 202:
            accepted.append(posted.get_json()["id"])
            return answers
        time.sleep(0.1)
    raise AssertionError("unreachable")
