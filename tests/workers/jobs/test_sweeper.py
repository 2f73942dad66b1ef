"""The sweeper: one at a time, what it reads of the broker pinned, what it says of a job it
gives up on, and patience with workers that were only cut off."""

import json
import time
from pathlib import Path

import kombu
import pytest
import redis

from tests.processes import RedisServer, wait_for
from workers.celery_app import QUEUE, create_celery, send_job
from workers.connections import redis_client
from workers.jobs.layout import MAX_ATTEMPTS, job_key
from workers.jobs.leases import Leases
from workers.jobs.record import JobOptions, JobStatus
from workers.jobs.store import JobStore
from workers.jobs.sweeper import Sweeper, queued_deliveries
from workers.pipeline.article import SourceFile
from workers.settings import Settings


@pytest.fixture
def store(redis_db: str) -> JobStore:
    return JobStore(redis_client(redis_db), ttl=60)


def test_one_sweeper_does_a_round_however_many_offer(store: JobStore, redis_db: str) -> None:
    app = create_celery(Settings(redis_url=redis_db))
    first = Sweeper(store, app, check_after=60, every=5, name="a")
    second = Sweeper(store, app, check_after=60, every=5, name="b")
    assert first.sweep() == 0
    assert second.sweep() is None, "the round is taken"
    store.redis.delete("vertaal:sweep-lock")
    assert second.sweep() == 0


def test_the_broker_format_the_sweeper_reads_is_the_installed_kombus(redis_db: str) -> None:
    """The sweeper reads one structure of kombu's: the queue's Redis list, whose messages
    carry the task id (our delivery id) in headers.id. An upgrade of kombu or Celery that
    changes it fails here, not silently in production."""
    app = create_celery(Settings(redis_url=redis_db))
    send_job(app, "f" * 32, "delivery-one")
    client = redis.Redis.from_url(redis_db)
    assert client.type(QUEUE) == b"list", f"kombu {kombu.__version__} keeps the queue elsewhere"
    raw = client.lrange(QUEUE, 0, -1)
    assert json.loads(raw[0])["headers"]["id"] == "delivery-one"
    assert queued_deliveries(client) == {"delivery-one"}
    assert not [k for k in client.keys(f"{QUEUE}\x06\x16*")], "no priority sub-lists are used"


def test_a_queued_job_whose_message_was_lost_is_sent_again(store: JobStore, redis_db: str) -> None:
    app = create_celery(Settings(redis_url=redis_db))
    waiting = store.create(SourceFile.pasted("Een zin."), JobOptions(), check_after=0)
    lost = store.create(SourceFile.pasted("Nog een zin."), JobOptions(), check_after=0)
    assert waiting.delivery and lost.delivery
    send_job(app, waiting.id, waiting.delivery)  # `lost` never reached the broker
    assert Sweeper(store, app, check_after=60, every=0.01, name="s").sweep() == 1
    assert store.get(waiting.id).delivery == waiting.delivery  # type: ignore[union-attr]
    renewed = store.get(lost.id).delivery  # type: ignore[union-attr]
    assert renewed != lost.delivery and renewed in queued_deliveries(store.redis)
    checks = int(store.redis.hget(job_key(waiting.id), "checks"))
    assert checks == 1, "a message found waiting is looked at again, later each time"


def test_a_job_out_of_attempts_fails_saying_what_happened(store: JobStore, redis_db: str) -> None:
    leases = Leases(store)
    job = store.create(SourceFile.pasted("Een zin."), JobOptions())
    assert job.delivery
    store.redis.hset(job_key(job.id), "attempts", MAX_ATTEMPTS - 1)
    leases.start(job.id, job.delivery, "node-7@host pid 42", lease=0.05, cap=MAX_ATTEMPTS)
    time.sleep(0.1)
    app = create_celery(Settings(redis_url=redis_db))
    assert Sweeper(store, app, check_after=0.001, every=0.01, name="s").sweep() == 1
    failed = store.get(job.id)
    assert failed is not None and failed.status is JobStatus.FAILED and failed.error
    assert failed.error.code == "worker_lost"
    assert f"stopped before finishing it, {MAX_ATTEMPTS} times" in failed.error.message
    assert "node-7@host pid 42" in failed.error.message and "?" not in failed.error.message


def test_right_after_redis_restarted_a_lapsed_lease_waits_for_its_worker(tmp_path: Path) -> None:
    """A restarted Redis finds leases that lapsed while it was down: their workers were cut
    off, not dead, and get one lease to renew before anything is queued again."""
    fresh = RedisServer(tmp_path / "restarted")
    try:
        store = JobStore(redis.Redis.from_url(fresh.url), ttl=60)
        leases = Leases(store)
        job = store.create(SourceFile.pasted("Een zin."), JobOptions())
        assert job.delivery
        leases.start(job.id, job.delivery, "w pid 1", lease=0.05, cap=3)
        time.sleep(0.1)
        app = create_celery(Settings(redis_url=fresh.url))
        patient = Sweeper(store, app, check_after=60, every=0.01, name="s")
        assert patient.sweep() == 0, "within a lease of the restart: left alone"
        assert store.status(job.id) is JobStatus.RUNNING
        assert leases.renew(job.id, job.delivery, lease=10) == "running", "its worker is back"
        store.redis.hset(job_key(job.id), "lease_until", 0)
        store.redis.zadd("vertaal:leases", {job.id: 0})
        brisk = Sweeper(store, app, check_after=0.001, every=0.01, name="s")
        wait_for(lambda: brisk.sweep() == 1, 5, "the lapsed lease to be swept")
        assert store.status(job.id) is JobStatus.QUEUED
    finally:
        fresh.stop()
