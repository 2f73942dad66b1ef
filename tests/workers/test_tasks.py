"""Worker reliability with real worker processes: killed children, time limits, unsafe settings."""

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from flask.testing import FlaskClient

from cli.main import main
from service import create_app
from tests.conftest import TinyModels, service_env
from tests.processes import RedisServer, Worker, wait_for
from tests.service.test_api import poll, unique_article
from workers.jobs.layout import MAX_ATTEMPTS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def isolated(
    redis_server: RedisServer, tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FlaskClient, redis.Redis, Worker]]:
    """A worker of its own database, so killing its children disturbs no other test."""
    url = redis_server.fresh_database()
    worker = Worker(service_env(tiny_models, url), tmp_path_factory.mktemp("isolated") / "log")
    yield create_app({"redis_url": url}).test_client(), redis.Redis.from_url(url), worker
    worker.stop()


def running_pid(store: redis.Redis, job_id: str, attempt: int, killed: set[int]) -> int:
    """The pid of the worker child running the job's `attempt`-th delivery."""

    def found() -> int | None:
        record: dict[bytes, bytes] = store.hgetall(f"vertaal:job:{job_id}")
        if record.get(b"status") != b"running" or int(record.get(b"attempts", 0)) != attempt:
            return None
        pid = int(record.get(b"worker", b"pid 0").split()[-1])
        return pid if pid not in killed else None

    return int(str(wait_for(found, 60, f"attempt {attempt} of job {job_id}")))


def kill_deliveries(store: redis.Redis, job_id: str, times: int) -> None:
    killed: set[int] = set()
    for attempt in range(1, times + 1):
        pid = running_pid(store, job_id, attempt, killed)
        os.kill(pid, signal.SIGKILL)
        killed.add(pid)


def test_a_killed_worker_child_does_not_lose_the_job(isolated: Any) -> None:
    client, store, _ = isolated
    job_id = client.post("/api/v1/jobs", json={"text": unique_article(30, seed=20)}).get_json()[
        "id"
    ]
    kill_deliveries(store, job_id, times=1)
    final = poll(client, job_id, timeout=120)[-1]
    assert final["status"] == "done", final.get("error")
    assert store.hget(f"vertaal:job:{job_id}", "attempts") == b"2"


def test_a_job_that_keeps_killing_its_worker_fails_clearly(isolated: Any) -> None:
    client, store, _ = isolated
    job_id = client.post("/api/v1/jobs", json={"text": unique_article(30, seed=21)}).get_json()[
        "id"
    ]
    kill_deliveries(store, job_id, times=MAX_ATTEMPTS)
    final = poll(client, job_id, timeout=120)[-1]
    assert final["status"] == "failed"
    assert final["error"]["code"] == "worker_lost"
    assert f"before finishing it, {MAX_ATTEMPTS} times" in final["error"]["message"]
    wait_for(lambda: store.llen("vertaal") == 0, 30, "the queue to drain")

    after = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=22)}).get_json()
    assert poll(client, after["id"], timeout=120)[-1]["status"] == "done", "the worker recovered"


@pytest.mark.parametrize(
    ("stubborn", "message"),
    [
        (False, "the article took longer than 3 s"),
        (True, "the article was stopped after 8 seconds"),
    ],
    ids=["soft-limit", "hard-limit"],
)
def test_time_limits_fail_the_job_as_a_timeout(
    redis_db: str, tiny_models: TinyModels, tmp_path: Path, stubborn: bool, message: str
) -> None:
    """A backend that takes 1 s a batch, on an article of 40 batches: the soft limit stops it
    at its next step; one stuck in a batch longer than the hard limit, blocking the soft
    limit's signal, is killed at the hard limit, and the worker goes on with a new process."""
    limits = {"soft_time_limit": 3, "hard_time_limit": 6, "visibility_timeout": 60}
    if stubborn:  # the hard limit well past the soft one, so the two cannot be confused
        limits = {**limits, "hard_time_limit": 8}
    env = {
        **service_env(tiny_models, redis_db, engine="slow", batch_size=1, **limits),
        "TEST_BATCH_SECONDS": "12" if stubborn else "1",
        "TEST_IGNORE_SOFT_LIMIT": "1" if stubborn else "0",
    }
    worker = Worker(env, tmp_path / "log", command="tests.slow_backend")
    client = create_app({"redis_url": redis_db, **limits}).test_client()
    try:
        job = client.post("/api/v1/jobs", json={"text": unique_article(40, seed=43)}).get_json()
        final = poll(client, job["id"], timeout=60)[-1]
        assert final["status"] == "failed", final
        assert final["error"] == {"code": "timeout", "message": message}
        if stubborn:
            store = redis.Redis.from_url(redis_db)
            wait_for(lambda: store.hlen("unacked") == 0, 30, "the killed job to be acknowledged")
    finally:
        worker.stop()


def test_worker_refuses_unsafe_time_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTAAL_HARD_TIME_LIMIT", "9000")
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 2
    assert "unsafe time limits" in result.stderr
    assert "9000" in result.stderr


def test_worker_without_models_says_so(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, empty_hub_cache: Path
) -> None:
    monkeypatch.setenv("VERTAAL_REDIS_URL", redis_server.url)
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 2
    assert "Cannot load the translation model 'Helsinki-NLP/opus-mt-nl-en'" in result.stderr


def test_a_worker_converts_the_models_on_first_use_and_says_so(
    redis_server: RedisServer, tiny_models: TinyModels, tmp_path: Path
) -> None:
    url = redis_server.fresh_database()
    converted = tmp_path / "ct2"
    env = {**service_env(tiny_models, url), "VERTAAL_CONVERTED_DIR": str(converted)}
    worker = Worker(env, tmp_path / "log")
    client = create_app({"redis_url": url}).test_client()
    try:
        job = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=25)}).get_json()
        assert poll(client, job["id"], timeout=120)[-1]["status"] == "done"
    finally:
        worker.stop()
    log = (tmp_path / "log").read_text()
    assert log.count("converting") == 2 and "this happens once per model version" in log
    assert len(list(converted.glob("*--int8/model.bin"))) == 2
