"""A worker's side of a job: start it under a lease, keep the lease, hand the job back.

Each message sent for a job carries a delivery id, and only the job's current delivery may
run it: a worker that starts it takes a lease (deadline on the Redis server's clock), renewed
by a thread while it works. A job whose lease runs out (its worker died: child, whole worker,
host) is queued again under a new delivery by the sweeper, and the old delivery can then no
longer write progress or end the job (`JobStore.end` is fenced by delivery). Attempts count
starts; a job handed back on purpose (a warm shutdown, a batch whose time ran out first on
another article) gets its attempt back: attempts count crashes, not operations.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass

from celery import Celery

from workers.celery_app import send_job
from workers.errors import CancelledError, JobTimeoutError
from workers.jobs.layout import KEY_PREFIX, LEASES, RUNNING, job_key
from workers.jobs.record import JobStatus, Progress
from workers.jobs.store import JobStore, new_delivery, now_iso

log = logging.getLogger(__name__)

# At most one progress write per second; the lease is checked at every batch.
PROGRESS_INTERVAL = 1.0
# Lease entries a worker looks through for queued jobs to take with its own.
CLAIM_SCAN = 200
RUNNING_STATUS = JobStatus.RUNNING.value.encode()


@dataclass(frozen=True)
class Start:
    """What a delivery found when it tried to start its job."""

    outcome: str  # running, stale, exhausted, gone, or a final status
    attempt: int


@dataclass(frozen=True)
class Claimed:
    """A queued job a worker took to run together with its own."""

    job_id: str
    delivery: str
    attempt: int
    size: int  # bytes of its input


class Leases:
    """The lifecycle's worker-side moves, on one job store."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def start(self, job_id: str, delivery: str, worker: str, *, lease: float, cap: int) -> Start:
        """Claim the job for this delivery and count the attempt (see scripts.START)."""
        outcome, attempt = self.store.run(
            "START", job_id, delivery, int(lease * 1000), cap, worker, now_iso(), job_id,
            keys=(LEASES, RUNNING),
        )  # fmt: skip
        return Start(outcome.decode(), int(attempt))

    def claim_queued(
        self, worker: str, delivery: str, *, lease: float, count: int, budget: int,
        processes: int = 1, held: int = 0,
    ) -> list[Claimed]:  # fmt: skip
        """Up to `count` queued article jobs that never started, the oldest first, whose
        inputs together hold at most `budget` bytes, started for this worker under deliveries
        derived from its own (see scripts.CLAIM); never more than its share, among
        `processes` worker processes, of what waits and the `held` it has claimed already."""
        if count <= 0:
            return []
        found = self.store.scripts.run(
            "CLAIM", [LEASES, RUNNING],
            [
                int(lease * 1000), worker, now_iso(), delivery, count, budget, CLAIM_SCAN,
                KEY_PREFIX, processes, held,
            ],
        )  # fmt: skip
        return [Claimed(i.decode(), d.decode(), int(a), int(n)) for i, d, a, n in found]

    def renew(
        self, job_id: str, delivery: str, *, lease: float, progress: Progress | None = None
    ) -> str:
        """Extend the lease (storing `progress`); the status found, or "stale" when another
        delivery has taken over: either way, anything but "running" means stop."""
        found = self.store.run(
            "RENEW", job_id, delivery, int(lease * 1000), job_id,
            json.dumps(asdict(progress)) if progress else "", now_iso(), keys=(LEASES,),
        )  # fmt: skip
        return str(found.decode())

    def hand_back(self, job_id: str, delivery: str, *, check_after: float) -> str | None:
        """Queue a running job again without counting its attempt; the new delivery (whose
        message the caller sends), or None if this delivery no longer holds the job."""
        fresh = new_delivery()
        moved = self.store.run(
            "HANDBACK", job_id, delivery, fresh, int(check_after * 1000), job_id, now_iso(),
            keys=(LEASES, RUNNING),
        )  # fmt: skip
        return fresh if moved else None

    def lapse(self, job_id: str, delivery: str) -> bool:
        """This delivery's worker process died: its lease ends now (see scripts.LAPSE)."""
        return bool(self.store.run("LAPSE", job_id, delivery, job_id, keys=(LEASES,)))

    def taken_by(self, delivery: str) -> list[tuple[str, str]]:
        """(job id, delivery) of the running jobs one task message holds: its own job, and
        the ones it claimed to run with it (their deliveries derive from its own)."""
        return [
            (job_id, theirs)
            for job_id, _, theirs in self.running()
            if theirs == delivery or theirs.startswith(delivery + ".")
        ]

    def running(self) -> list[tuple[str, str, str]]:
        """(job id, worker, delivery) of every job a worker runs now."""
        ids = sorted(i.decode() for i in self.store.redis.smembers(RUNNING))
        if not ids:
            return []
        with self.store.redis.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hmget(job_key(job_id), "status", "worker", "delivery")
            found = pipe.execute()
        return [
            (job_id, worker.decode(), delivery.decode())
            for job_id, (status, worker, delivery) in zip(ids, found, strict=True)
            if status == RUNNING_STATUS and worker and delivery
        ]


def hand_back_all(leases: Leases, app: Celery, worker_prefix: str, check_after: float) -> int:
    """Give every job this worker runs back to the queue (a warm shutdown): each is queued
    again under a new delivery with its attempt returned, and its worker process, at its next
    lease renewal, finds the job no longer its own and stops. The number handed back."""
    handed = 0
    for job_id, worker, delivery in leases.running():
        if not worker.startswith(worker_prefix):
            continue
        fresh = leases.hand_back(job_id, delivery, check_after=check_after)
        if fresh is not None:
            send_job(app, job_id, fresh)
            handed += 1
            log.info("job %s handed back to the queue (the worker is stopping)", job_id)
    return handed


class Lease:
    """Holds a running job's lease: renewed by a thread while the pipeline works (a batch
    may take longer than the lease), and at each progress report, which it also stores.

    Once the job is no longer this delivery's to run (cancelled, handed back, or given to a
    new delivery after this one was thought dead), the next report raises CancelledError;
    past the job's own time limit, JobTimeoutError. The thread never dies silently: any
    failure to renew is logged, and once the lease has gone unrenewed for its whole length
    (another worker may have the job now) the job is abandoned here: the next report stops
    it, and it is not ended by this worker."""

    def __init__(
        self, leases: Leases, job_id: str, delivery: str, seconds: float, attempt: int,
        time_limit: float, out_of_time: str = "the article took longer than its time limit",
    ) -> None:  # fmt: skip
        self.leases, self.job_id, self.delivery, self.seconds = leases, job_id, delivery, seconds
        self.attempt = attempt
        self.found = "running"
        self.deadline = time.monotonic() + time_limit
        self.out_of_time = out_of_time
        self.renewed_at = time.monotonic()
        self.last_write, self.last_stage = 0.0, ""
        self.stopped = threading.Event()
        self.keeper = threading.Thread(target=self._keep, name=f"lease-{job_id}", daemon=True)

    def __enter__(self) -> Lease:
        self.keeper.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.keeper.join(timeout=5)

    @property
    def abandoned(self) -> bool:
        return self.found == "abandoned"

    @property
    def timed_out(self) -> bool:
        return time.monotonic() > self.deadline

    def _renew(self, progress: Progress | None = None) -> None:
        if self.abandoned:
            return
        try:
            self.found = self.leases.renew(
                self.job_id, self.delivery, lease=self.seconds, progress=progress
            )
            self.renewed_at = time.monotonic()
        except Exception as error:  # whatever it is, the lease must not silently lapse
            unrenewed = time.monotonic() - self.renewed_at
            log.warning(
                "could not renew the lease of job %s (%.0f s since the last renewal): %s",
                self.job_id, unrenewed, error,
            )  # fmt: skip
            if unrenewed >= self.seconds:
                log.error("job %s abandoned: its lease could not be renewed", self.job_id)
                self.found = "abandoned"

    def _keep(self) -> None:
        try:
            while not self.stopped.wait(self.seconds / 3):
                self._renew()
        except BaseException:
            log.exception("the lease keeper of job %s stopped; the job is abandoned", self.job_id)
            self.found = "abandoned"

    def __call__(self, done: int, total: int, stage: str) -> None:
        now = time.monotonic()
        due = now - self.last_write >= PROGRESS_INTERVAL or stage != self.last_stage
        if due or done == total:
            self._renew(Progress(done, total, stage, self.attempt))
            self.last_write, self.last_stage = now, stage
        else:
            self._renew()
        if self.found != "running":
            raise CancelledError(f"job {self.job_id} is {self.found}")
        if self.timed_out:
            raise JobTimeoutError(self.out_of_time)
