"""Job records in Redis: the one source of truth for a job's status, shared by API and worker.

Celery reports PENDING for ids it has never seen, so Vertaal keeps its own record per job, a
Redis hash with a TTL. Status changes go through one Lua script that only moves a job from the
statuses it names, so a cancel and a worker's progress write can never undo each other.

`JobStore.end` is the one place where a job reaches a final status (done, failed, cancelled),
whoever ends it (worker, API, web page): it records the status, drops the job's input and its
dedupe claim, and announces the ended job to the store's listeners (metrics, webhooks, logs).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import redis

from workers.connections import redis_client
from workers.job_record import (
    ACTIVE,
    FINAL,
    JobError,
    JobOptions,
    JobRecord,
    JobStatus,
    Progress,
)
from workers.pipeline.article import RawDocument, Result
from workers.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "vertaal:job:"
JOB_ID = re.compile(r"[0-9a-f]{32}")
DEDUPE_PREFIX = "vertaal:inflight:"

# KEYS[1]: job hash. ARGV[1]: comma-separated statuses the job may be in; the rest: field/value
# pairs to set. Returns the status found (or false when the job does not exist), and whether
# the fields were set.
_TRANSITION = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {false, 0} end
for allowed in string.gmatch(ARGV[1], '[^,]+') do
  if allowed == status then
    redis.call('HSET', KEYS[1], unpack(ARGV, 2))
    return {status, 1}
  end
end
return {status, 0}
"""
# Delete a dedupe claim only if it still names this job.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# Called with each job that has just ended (metrics, webhooks, logs subscribe here).
JobListener = Callable[[JobRecord], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _final_progress(result: Result) -> Progress:
    total = sum(len(p) for p in result.source.paragraphs) + (1 if result.source.title else 0)
    return Progress(total, total, "done")


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode())


def _unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


class JobStore:
    """Create, read and move job records; every method is one or two Redis round trips."""

    def __init__(
        self, client: redis.Redis, ttl: int, listeners: Sequence[JobListener] = ()
    ) -> None:
        self.redis = client
        self.ttl = ttl
        self.listeners = list(listeners)
        self._transition = client.register_script(_TRANSITION)
        self._release = client.register_script(_RELEASE)

    @staticmethod
    def _key(job_id: str) -> str:
        return KEY_PREFIX + job_id

    def create(
        self,
        document: RawDocument,
        options: JobOptions,
        *,
        filename: str | None = None,
        dedupe_key: str | None = None,
        keep_input: bool = True,
    ) -> JobRecord:
        """A new queued job, holding its input unless `keep_input` is false (a job about to be
        ended at once, from the cache)."""
        now = _now()
        status = JobStatus.QUEUED
        job = JobRecord(
            id=uuid.uuid4().hex,
            status=status,
            created_at=now,
            updated_at=now,
            options=options,
            progress=Progress(stage=status.value),
            filename=filename,
            dedupe_key=dedupe_key,
        )
        fields: dict[str, Any] = {
            "id": job.id,
            "status": status.value,
            "created_at": now,
            "updated_at": now,
            "options": json.dumps(asdict(options)),
            "progress": json.dumps(asdict(job.progress)),
            "filename": filename or "",
            "dedupe_key": dedupe_key or "",
            "attempts": 0,
        }
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job.id), mapping=fields)
            pipe.expire(self._key(job.id), self.ttl)
            if keep_input:
                pipe.set(self._key(job.id) + ":input", _pack(asdict(document)), ex=self.ttl)
            pipe.execute()
        return job

    def get(self, job_id: str) -> JobRecord | None:
        """The job, or None for an unknown, expired or malformed id."""
        if not JOB_ID.fullmatch(job_id):
            return None
        raw = self.redis.hgetall(self._key(job_id))
        if b"id" not in raw:
            return None  # unknown, or only the `attempts` counter a late delivery recreated
        data = {k.decode(): v for k, v in raw.items()}
        error = json.loads(data["error"]) if data.get("error") else None
        return JobRecord(
            id=data["id"].decode(),
            status=JobStatus(data["status"].decode()),
            created_at=data["created_at"].decode(),
            updated_at=data["updated_at"].decode(),
            options=JobOptions(**json.loads(data["options"])),
            progress=Progress(**json.loads(data["progress"])),
            error=JobError(**error) if error else None,
            result=Result.from_dict(_unpack(data["result"])) if data.get("result") else None,
            filename=data["filename"].decode() or None,
            dedupe_key=data["dedupe_key"].decode() or None,
            attempts=int(data["attempts"]),
        )

    def delete(self, job_id: str) -> None:
        self.redis.delete(self._key(job_id), self._key(job_id) + ":input")

    def get_input(self, job_id: str) -> RawDocument | None:
        data = self.redis.get(self._key(job_id) + ":input")
        return RawDocument(**_unpack(data)) if data else None

    def _move(
        self, job_id: str, allowed: tuple[JobStatus, ...], **fields: Any
    ) -> tuple[JobStatus | None, bool]:
        pairs: list[Any] = []
        for name, value in {**fields, "updated_at": _now()}.items():
            pairs += [name, value]
        found, changed = self._transition(
            keys=[self._key(job_id)], args=[",".join(s.value for s in allowed), *pairs]
        )
        return (JobStatus(found.decode()) if found else None), bool(changed)

    def start(self, job_id: str, worker: str) -> bool:
        """Mark the job running (again, after a redelivery); False if it is no longer active."""
        progress = json.dumps(asdict(Progress(stage="starting")))
        return self._move(job_id, ACTIVE, status=JobStatus.RUNNING.value, worker=worker,
                          progress=progress)[1]  # fmt: skip

    def add_attempt(self, job_id: str) -> int:
        return int(self.redis.hincrby(self._key(job_id), "attempts", 1))

    def record_progress(self, job_id: str, progress: Progress) -> JobStatus | None:
        """Store progress while running; returns the job's status so callers see a cancel."""
        status, _ = self._move(job_id, (JobStatus.RUNNING,), progress=json.dumps(asdict(progress)))
        return status

    def status(self, job_id: str) -> JobStatus | None:
        value = self.redis.hget(self._key(job_id), "status")
        return JobStatus(value.decode()) if value else None

    def end(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: Result | None = None,
        error: JobError | None = None,
    ) -> bool:
        """Move an active job to its final `status`: done with its `result`, failed with its
        `error`, or cancelled. False (and nothing announced) when the job was not active."""
        if status not in FINAL or (status is JobStatus.DONE) != (result is not None):
            raise ValueError(f"cannot end a job as {status} with result={result is not None}")
        if (status is JobStatus.FAILED) != (error is not None):
            raise ValueError("a failed job needs an error, and only a failed job has one")
        fields: dict[str, Any] = {"status": status.value}
        if result is not None:
            fields["result"] = _pack(result.to_dict())
            fields["progress"] = json.dumps(asdict(_final_progress(result)))
        if error is not None:
            fields["error"] = json.dumps(asdict(error))
        _, changed = self._move(job_id, ACTIVE, **fields)
        if not changed:
            return False
        dedupe_key = self.redis.hget(self._key(job_id), "dedupe_key")
        self.redis.delete(self._key(job_id) + ":input")
        if dedupe_key:
            self.release(dedupe_key.decode(), job_id)
        self._announce(job_id)
        return True

    def _announce(self, job_id: str) -> None:
        job = self.get(job_id) if self.listeners else None
        if job is None:
            return
        for listener in self.listeners:
            try:
                listener(job)
            except Exception:  # a listener's failure must never undo or block the job's end
                log.exception("a job-end listener failed for job %s", job_id)

    def claim(self, dedupe_key: str, job_id: str) -> str | None:
        """Register `job_id` as the job for this input; returns the id of an existing active
        job for the same input instead, if there is one."""
        key = DEDUPE_PREFIX + dedupe_key
        for _ in range(3):
            if self.redis.set(key, job_id, nx=True, ex=self.ttl):
                return None
            holder = self.redis.get(key)
            if holder is None:
                continue  # released in between: try again
            existing = self.status(holder.decode())
            if existing in ACTIVE:
                return str(holder.decode())
            self._release(keys=[key], args=[holder])  # a stale claim: its job is gone or over
        return None

    def release(self, dedupe_key: str, job_id: str) -> None:
        self._release(keys=[DEDUPE_PREFIX + dedupe_key], args=[job_id])


def log_job_end(job: JobRecord) -> None:
    error = f" ({job.error.code}: {job.error.message})" if job.error else ""
    log.info("job %s %s after %d attempt(s)%s", job.id, job.status, job.attempts, error)


def job_end_listeners(settings: Settings) -> list[JobListener]:
    """Everything that hears of a job's end, wherever it ends: subscribe new features here."""
    return [log_job_end]


def job_store(settings: Settings) -> JobStore:
    """The job store every door uses, with the listeners that hear of each job's end."""
    return JobStore(redis_client(settings.redis_url), settings.job_ttl, job_end_listeners(settings))
