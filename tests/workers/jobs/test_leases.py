"""A worker's side of a job: leases on the server's clock, hand-backs that cost no attempt,
a second copy of a message that finds its job busy, and a lease keeper that never dies
silently."""

import logging
import time
from typing import Any

import pytest

from tests.processes import wait_for
from workers.connections import redis_client
from workers.errors import CancelledError, JobTimeoutError
from workers.jobs.layout import LEASES, job_key
from workers.jobs.leases import Lease, Leases
from workers.jobs.record import JobOptions, JobStatus
from workers.jobs.store import JobStore
from workers.pipeline.article import SourceFile


@pytest.fixture
def leases(redis_db: str) -> Leases:
    return Leases(JobStore(redis_client(redis_db), ttl=60))


def started(leases: Leases, lease: float = 10) -> tuple[str, str]:
    job = leases.store.create(SourceFile.pasted("Een zin."), JobOptions())
    assert job.delivery
    assert leases.start(job.id, job.delivery, "host pid 1", lease=lease, cap=3).attempt == 1
    return job.id, job.delivery


def test_lease_deadlines_come_from_the_redis_servers_clock(
    leases: Leases, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host whose clock is ten minutes off still writes the lease the server's clock
    says: no other host's sweeper sees it lapsed, none sees it live forever."""
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0 + 600)
    job_id, delivery = started(leases, lease=60)
    seconds, _ = leases.store.redis.time()
    lease_until = int(leases.store.redis.hget(job_key(job_id), "lease_until"))
    assert abs(lease_until - (int(seconds) + 60) * 1000) < 5_000
    leases.renew(job_id, delivery, lease=60)
    assert abs(int(leases.store.redis.zscore(LEASES, job_id)) - lease_until) < 5_000


def test_a_job_handed_back_gets_its_attempt_back_and_a_new_delivery(leases: Leases) -> None:
    job_id, delivery = started(leases)
    fresh = leases.hand_back(job_id, delivery, check_after=60)
    assert fresh is not None and fresh != delivery
    job = leases.store.get(job_id)
    assert job is not None and job.status is JobStatus.QUEUED and job.attempts == 0
    assert leases.renew(job_id, delivery, lease=10) == "queued", "the old run hears it, stops"
    assert not leases.store.fail(job_id, "x", "late", delivery=delivery), "and cannot end it"
    assert leases.hand_back(job_id, delivery, check_after=60) is None, "only once"
    assert leases.start(job_id, fresh, "host pid 2", lease=10, cap=3).attempt == 1


def test_a_second_copy_of_a_message_waits_for_the_lease_to_lapse(leases: Leases) -> None:
    """A broker may deliver a message again while its run goes on (a connection blip): that
    copy is skipped. Once the run's process is known dead (its lease ended), it takes over."""
    job_id, delivery = started(leases)
    assert leases.start(job_id, delivery, "host pid 2", lease=10, cap=3).outcome == "busy"
    assert leases.lapse(job_id, delivery)
    again = leases.start(job_id, delivery, "host pid 2", lease=10, cap=3)
    assert (again.outcome, again.attempt) == ("running", 2), "the crash counts"
    assert not leases.lapse(job_id, "another delivery")


class Flaky:
    """A Leases whose renewals fail (with any exception) while `failing` is set."""

    def __init__(self, leases: Leases) -> None:
        self.leases = leases
        self.failing = False
        self.calls = 0

    def renew(self, *args: Any, **kwargs: Any) -> str:
        self.calls += 1
        if self.failing:
            raise ValueError("not a Redis error at all")
        return self.leases.renew(*args, **kwargs)


def test_the_lease_keeper_survives_any_error_and_abandons_a_lease_it_cannot_keep(
    leases: Leases, caplog: pytest.LogCaptureFixture
) -> None:
    job_id, delivery = started(leases)
    flaky = Flaky(leases)
    lease = Lease(flaky, job_id, delivery, 0.6, 1, time_limit=60)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING), lease:
        flaky.failing = True
        wait_for(lambda: flaky.calls >= 2, 5, "renewals to fail")
        assert lease.keeper.is_alive(), "the keeper outlives a failed renewal"
        wait_for(lambda: lease.abandoned, 5, "the lease to be abandoned")
        with pytest.raises(CancelledError):
            lease(1, 2, "translate")
    assert "could not renew the lease" in caplog.text and "abandoned" in caplog.text


def test_a_job_past_its_own_time_limit_stops_at_its_next_report(leases: Leases) -> None:
    job_id, delivery = started(leases)
    with Lease(leases, job_id, delivery, 10, 1, time_limit=0.2) as lease:
        lease(1, 4, "translate")
        time.sleep(0.3)
        with pytest.raises(JobTimeoutError):
            lease(2, 4, "translate")
