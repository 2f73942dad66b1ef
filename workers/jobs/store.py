"""Job records in Redis: the one source of truth for a job's status, shared by API and worker.

Celery reports PENDING for ids it has never seen, so Vertaal keeps its own record per job, a
Redis hash with a TTL. Every move is one Lua script (`workers/job_scripts.py`) that checks the
job's status first, so a cancel and a worker's progress write can never undo each other.

Each message sent for a job carries a delivery id, and only the job's current delivery may
run it: a worker that starts it takes a lease, renewed while it works. A job whose lease runs
out (its worker died: child, whole worker, host, or the broker lost the message) is queued
again under a new delivery by the sweeper, and a stale message that turns up later is
skipped. Attempts count every start, so an article that keeps killing its worker fails.

`JobStore.end` is the one place where a job reaches a final status (done, failed, cancelled),
whoever ends it (worker, sweeper, API, web page, cache hit): it records the status, drops the
job's input, lease and dedupe claim, appends the end to the `vertaal:job-ends` stream, and
announces the ended job to the store's listeners (logs; metrics and webhooks subscribe too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from workers.cache import ResultCache
from workers.connections import redis_client
from workers.jobs import scripts as job_scripts
from workers.jobs.record import (
    FINAL,
    Delivery,
    JobError,
    JobOptions,
    JobRecord,
    JobStatus,
    Progress,
)
from workers.operations import webhooks
from workers.operations.keys import KeyStore
from workers.operations.metrics import MetricsRecorder
from workers.pipeline.article import Result, SourceFile
from workers.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "vertaal:job:"
JOB_ID = re.compile(r"[0-9a-f]{32}")
DEDUPE_PREFIX = "vertaal:inflight:"
LEASES = "vertaal:leases"
RUNNING = "vertaal:running"  # jobs a worker is running now
JOB_ENDS = "vertaal:job-ends"
JOB_ENDS_KEPT = 10_000
# A job whose article kills its worker this many times fails instead of looping.
MAX_ATTEMPTS = 3
# Lease entries a worker looks through for queued jobs to take with its own.
CLAIM_SCAN = 200

# Called with each job that has just ended (metrics, webhooks, logs subscribe here).
JobListener = Callable[[JobRecord], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms() -> int:
    return int(time.time() * 1000)


def new_delivery() -> str:
    return uuid.uuid4().hex


def _final_progress(result: Result, attempt: int) -> Progress:
    total = sum(len(p) for p in result.source.paragraphs) + (1 if result.source.title else 0)
    return Progress(total, total, "done", attempt)


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode())


def _unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


def _text(data: dict[str, bytes], name: str) -> str | None:
    value = data.get(name)
    return value.decode() or None if value else None


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


class JobStore:
    """Create, read and move job records; every method is one or two Redis round trips."""

    def __init__(
        self,
        client: redis.Redis,
        ttl: int,
        listeners: Sequence[JobListener] = (),
        *,
        results: ResultCache | None = None,
    ) -> None:
        self.redis = client
        self.ttl = ttl
        self.listeners = list(listeners)
        # Where results that jobs point at live (the cache): a job never copies one.
        self.results = results
        self._scripts = {
            name: client.register_script(getattr(job_scripts, name))
            for name in ("START", "CLAIM", "RENEW", "EXPIRE", "REDELIVER", "END", "RELEASE")
        }

    @staticmethod
    def _key(job_id: str) -> str:
        return KEY_PREFIX + job_id

    def _run(self, script: str, job_id: str, *args: Any, keys: Sequence[str] = ()) -> Any:
        return self._scripts[script](keys=[self._key(job_id), *keys], args=list(args))

    def create(
        self,
        source: SourceFile,
        options: JobOptions,
        *,
        filename: str | None = None,
        dedupe_key: str | None = None,
        keep_input: bool = True,
        check_after: float = 60.0,
        api_key: str | None = None,
        callback_url: str | None = None,
    ) -> JobRecord:
        """A new queued job with its first delivery id, holding its input unless `keep_input`
        is false (a job about to be ended at once, from the cache). After `check_after`
        seconds the sweeper makes sure its message is still in the broker."""
        now = _now()
        job = JobRecord(
            id=uuid.uuid4().hex,
            status=JobStatus.QUEUED,
            created_at=now,
            updated_at=now,
            options=options,
            progress=Progress(stage="queued"),
            filename=filename,
            dedupe_key=dedupe_key,
            delivery=new_delivery(),
            api_key=api_key,
            callback_url=callback_url,
        )
        fields: dict[str, Any] = {
            "id": job.id,
            "status": job.status.value,
            "created_at": now,
            "updated_at": now,
            "options": json.dumps(asdict(options)),
            "progress": json.dumps(asdict(job.progress)),
            "filename": filename or "",
            "dedupe_key": dedupe_key or "",
            "attempts": 0,
            "delivery": job.delivery,
            "input_name": source.name,
            "size": len(source.data),
            "api_key": api_key or "",
            "callback_url": callback_url or "",
        }
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job.id), mapping=fields)
            pipe.expire(self._key(job.id), self.ttl)
            if keep_input:
                pipe.set(self._key(job.id) + ":input", zlib.compress(source.data, 1), ex=self.ttl)
                pipe.zadd(LEASES, {job.id: _ms() + int(check_after * 1000)})
            pipe.execute()
        return job

    def version(self, job_id: str) -> str | None:
        """What changes whenever the job's view does (its status, progress, end, callback
        deliveries), read without the job itself; None for an unknown job. An ETag."""
        if not JOB_ID.fullmatch(job_id):
            return None
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self._key(job_id), "status", "updated_at")
            pipe.llen(self._key(job_id) + ":deliveries")
            (status, updated), deliveries = pipe.execute()
        if status is None:
            return None
        seen = b"|".join((status, updated or b"", str(deliveries).encode()))
        return hashlib.sha256(job_id.encode() + b"|" + seen).hexdigest()[:32]

    def get(self, job_id: str, *, with_result: bool = True) -> JobRecord | None:
        """The job, or None for an unknown, expired or malformed id. Without `with_result`,
        its result is not read (a poller's light view)."""
        if not JOB_ID.fullmatch(job_id):
            return None
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key(job_id))
            pipe.lrange(self._key(job_id) + ":deliveries", 0, -1)
            raw, deliveries = pipe.execute()
        if b"id" not in raw:
            return None
        data = {k.decode(): v for k, v in raw.items()}
        error = json.loads(data["error"]) if data.get("error") else None
        result_key = _text(data, "result_key")
        result = None
        if with_result and data.get("result"):
            result = Result.from_dict(_unpack(data["result"]))
        if with_result and result_key and self.results is not None:
            result = self.results.get(result_key)
        return JobRecord(
            id=data["id"].decode(),
            status=JobStatus(data["status"].decode()),
            created_at=data["created_at"].decode(),
            updated_at=data["updated_at"].decode(),
            options=JobOptions(**json.loads(data["options"])),
            progress=Progress(**json.loads(data["progress"])),
            error=JobError(**error) if error else None,
            result=result,
            result_key=result_key,
            filename=_text(data, "filename"),
            dedupe_key=_text(data, "dedupe_key"),
            attempts=int(data.get("attempts", b"0")),
            delivery=_text(data, "delivery"),
            started_at=_text(data, "started_at"),
            api_key=_text(data, "api_key"),
            callback_url=_text(data, "callback_url"),
            deliveries=[Delivery(**json.loads(d)) for d in deliveries],
        )

    def record_delivery(self, job_id: str, delivery: Delivery) -> None:
        """Note one attempt to deliver the job's callback, kept as long as the job."""
        key = self._key(job_id) + ":deliveries"
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(asdict(delivery)))
            pipe.expire(key, self.ttl)
            pipe.execute()

    def lock(self, job_id: str, secret: str) -> None:
        """Only who holds `secret` may read the job (a DeepL document's key); kept hashed."""
        self.redis.hset(self._key(job_id), "secret", hashlib.sha256(secret.encode()).hexdigest())

    def unlocks(self, job_id: str, secret: str) -> bool:
        stored = self.redis.hget(self._key(job_id), "secret")
        given = hashlib.sha256(secret.encode()).hexdigest().encode()
        return stored is not None and hmac.compare_digest(stored, given)

    def keep_file(self, job_id: str, data: bytes, media_type: str) -> None:
        """A document job's translated file, kept as long as the job (or until taken)."""
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job_id), "file_type", media_type)
            pipe.set(self._key(job_id) + ":file", zlib.compress(data, 1), ex=self.ttl)
            pipe.execute()

    def get_file(self, job_id: str) -> tuple[bytes, str] | None:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key(job_id) + ":file")
            pipe.hget(self._key(job_id), "file_type")
            data, media_type = pipe.execute()
        return (zlib.decompress(data), media_type.decode()) if data and media_type else None

    def drop_file(self, job_id: str) -> None:
        self.redis.delete(self._key(job_id) + ":file")

    def delete(self, job_id: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.delete(self._key(job_id), self._key(job_id) + ":input")
            pipe.zrem(LEASES, job_id)
            pipe.execute()

    def get_input(self, job_id: str) -> SourceFile | None:
        with self.redis.pipeline() as pipe:
            pipe.hget(self._key(job_id), "input_name")
            pipe.get(self._key(job_id) + ":input")
            name, data = pipe.execute()
        return SourceFile(name.decode(), zlib.decompress(data)) if name and data else None

    def status(self, job_id: str) -> JobStatus | None:
        value = self.redis.hget(self._key(job_id), "status")
        return JobStatus(value.decode()) if value else None

    # --- a worker's side: start, progress and lease, for one delivery ---------------------

    def start(self, job_id: str, delivery: str, worker: str, *, lease: float, cap: int) -> Start:
        """Claim the job for this delivery and count the attempt (see job_scripts.START)."""
        outcome, attempt = self._run(
            "START", job_id, delivery, _ms(), int(lease * 1000), cap, worker, _now(), job_id,
            keys=[LEASES, RUNNING],
        )  # fmt: skip
        return Start(outcome.decode(), int(attempt))

    def claim_queued(
        self, worker: str, delivery: str, *, lease: float, count: int, budget: int,
        processes: int = 1, held: int = 0,
    ) -> list[Claimed]:  # fmt: skip
        """Up to `count` queued article jobs that never started, the oldest first, whose
        inputs together hold at most `budget` bytes, started for this worker under deliveries
        derived from its own (see job_scripts.CLAIM); never more than its share, among
        `processes` worker processes, of what waits and the `held` it has claimed already."""
        if count <= 0:
            return []
        found = self._scripts["CLAIM"](
            keys=[LEASES, RUNNING],
            args=[
                _ms(), int(lease * 1000), worker, _now(), delivery, count, budget, CLAIM_SCAN,
                KEY_PREFIX, processes, held,
            ],
        )  # fmt: skip
        return [Claimed(i.decode(), d.decode(), int(a), int(n)) for i, d, a, n in found]

    def renew(
        self, job_id: str, delivery: str, *, lease: float, progress: Progress | None = None
    ) -> str:
        """Extend the lease (storing `progress`); the status found, or "stale" when another
        delivery has taken over: either way, anything but "running" means stop."""
        found = self._run(
            "RENEW", job_id, delivery, _ms() + int(lease * 1000), job_id,
            json.dumps(asdict(progress)) if progress else "", _now(), keys=[LEASES],
        )  # fmt: skip
        return str(found.decode())

    # --- the sweeper's side ----------------------------------------------------------------

    def due(self, limit: int = 100) -> list[str]:
        """Jobs whose lease (or queued-message check) is due."""
        return [j.decode() for j in self.redis.zrangebyscore(LEASES, "-inf", _ms(), 0, limit)]

    def expire(self, job_id: str, *, check_after: float, cap: int) -> tuple[str, str]:
        """See job_scripts.EXPIRE: what to do about a job whose entry is due."""
        outcome, delivery = self._run(
            "EXPIRE", job_id, _ms(), job_id, new_delivery(), _ms() + int(check_after * 1000),
            cap, _now(), keys=[LEASES, RUNNING],
        )  # fmt: skip
        return outcome.decode(), delivery.decode()

    def recheck_later(self, job_id: str, after: float) -> None:
        self.redis.zadd(LEASES, {job_id: _ms() + int(after * 1000)}, xx=True)

    def redeliver(self, job_id: str, old: str, *, check_after: float) -> str | None:
        """A new delivery id for a queued job whose message is lost; None if it moved."""
        delivery = new_delivery()
        moved = self._run(
            "REDELIVER", job_id, old, delivery, _ms() + int(check_after * 1000), job_id, _now(),
            keys=[LEASES],
        )  # fmt: skip
        return delivery if moved else None

    # --- the end ---------------------------------------------------------------------------

    def end(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: Result | None = None,
        result_key: str | None = None,
        error: JobError | None = None,
    ) -> bool:
        """Move an active job to its final `status`: done with its `result` (stored in the
        job, or, with `result_key`, pointed at where the cache holds it), failed with its
        `error`, or cancelled. False (and nothing announced) when the job was not active."""
        if status not in FINAL or (status is JobStatus.DONE) != (result is not None):
            raise ValueError(f"cannot end a job as {status} with result={result is not None}")
        if (status is JobStatus.FAILED) != (error is not None):
            raise ValueError("a failed job needs an error, and only a failed job has one")
        fields: list[Any] = []
        if result is not None:
            attempts = int(self.redis.hget(self._key(job_id), "attempts") or 0)
            stored = (
                ("result_key", result_key) if result_key else ("result", _pack(result.to_dict()))
            )
            fields += [*stored, "progress", json.dumps(asdict(_final_progress(result, attempts)))]
        if error is not None:
            fields += ["error", json.dumps(asdict(error))]
        ended = self._run(
            "END", job_id, status.value, job_id, _now(), JOB_ENDS_KEPT, *fields,
            keys=[self._key(job_id) + ":input", LEASES, JOB_ENDS, RUNNING],
        )  # fmt: skip
        if not ended:
            return False
        self._announce(job_id)
        return True

    def fail(self, job_id: str, code: str, message: str) -> bool:
        return self.end(job_id, JobStatus.FAILED, error=JobError(code, message))

    def fail_worker_lost(self, job_id: str) -> bool:
        return self.fail(
            job_id,
            "worker_lost",
            f"the worker process died {MAX_ATTEMPTS} times while translating this article "
            "(out of memory?); it will not be retried",
        )

    def _announce(self, job_id: str) -> None:
        job = self.get(job_id) if self.listeners else None
        if job is None:
            return
        for listener in self.listeners:
            try:
                listener(job)
            except Exception:  # a listener's failure must never undo or block the job's end
                log.exception("a job-end listener failed for job %s", job_id)

    # --- one job per identical active submission -------------------------------------------

    def claim(self, dedupe_key: str, job_id: str) -> str | None:
        """Register `job_id` as the job for this input; returns the id of an existing active
        job for the same input instead, if there is one whose worker is alive. A job whose
        lease has run out is never joined: its worker is gone."""
        key = DEDUPE_PREFIX + dedupe_key
        for _ in range(3):
            if self.redis.set(key, job_id, nx=True, ex=self.ttl):
                return None
            holder = self.redis.get(key)
            if holder is None:
                continue  # released in between: try again
            if self._joinable(holder.decode()):
                return str(holder.decode())
            self.release(dedupe_key, holder.decode())  # over, gone, or its worker died
        return None

    def _joinable(self, job_id: str) -> bool:
        status, lease_until = self.redis.hmget(self._key(job_id), ["status", "lease_until"])
        if status == b"queued":
            return True
        return status == b"running" and int(lease_until or 0) > _ms()

    def release(self, dedupe_key: str, job_id: str) -> None:
        self._scripts["RELEASE"](keys=[DEDUPE_PREFIX + dedupe_key], args=[job_id])


def log_job_end(job: JobRecord) -> None:
    error = f" ({job.error.code}: {job.error.message})" if job.error else ""
    log.info("job %s %s after %d attempt(s)%s", job.id, job.status, job.attempts, error)


def job_end_listeners(settings: Settings) -> list[JobListener]:
    """Everything that hears of a job's end, wherever it ends: subscribe new features here."""
    queue = redis_client(settings.redis_url)
    return [
        log_job_end,
        MetricsRecorder(queue).job_ended,
        KeyStore(queue).count_usage,
        webhooks.announcer(settings),
    ]


def job_store(settings: Settings) -> JobStore:
    """The job store every door uses, with the listeners that hear of each job's end."""
    return JobStore(
        redis_client(settings.redis_url),
        settings.job_ttl,
        job_end_listeners(settings),
        results=ResultCache(redis_client(settings.cache_redis_url()), settings.cache_ttl),
    )
