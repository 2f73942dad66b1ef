"""Job records in Redis: the one source of truth for a job's status, shared by API and worker.

Celery reports PENDING for ids it has never seen, so Vertaal keeps its own record per job, a
Redis hash with a TTL. Status changes go through one Lua script that only moves a job from the
statuses it names, so a cancel and a worker's progress write can never undo each other.
"""

from __future__ import annotations

import json
import re
import uuid
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import redis

from workers.pipeline.article import RawDocument, Result

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


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class JobOptions:
    """What the submitter asked for, beyond the article itself."""

    summary: bool = True
    check_language: bool = True


@dataclass(frozen=True)
class Progress:
    done: int = 0
    total: int = 0
    stage: str = "queued"


@dataclass(frozen=True)
class JobError:
    code: str
    message: str


@dataclass
class JobRecord:
    id: str
    status: JobStatus
    created_at: str
    updated_at: str
    options: JobOptions
    progress: Progress = field(default_factory=Progress)
    error: JobError | None = None
    result: Result | None = None
    filename: str | None = None
    dedupe_key: str | None = None
    attempts: int = 0

    def to_api(self) -> dict[str, Any]:
        """The job as the API shows it."""
        shown: dict[str, Any] = {
            "id": self.id,
            "status": self.status.value,
            "progress": asdict(self.progress),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "filename": self.filename,
            "summary": self.options.summary,
        }
        if self.result is not None:
            shown["result"] = self.result.to_dict()
        if self.error is not None:
            shown["error"] = asdict(self.error)
        return shown


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

    def __init__(self, client: redis.Redis, ttl: int) -> None:
        self.redis = client
        self.ttl = ttl
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
        result: Result | None = None,
    ) -> JobRecord:
        """A new queued job holding its input, or, with `result`, a job already done."""
        now = _now()
        status = JobStatus.QUEUED if result is None else JobStatus.DONE
        job = JobRecord(
            id=uuid.uuid4().hex,
            status=status,
            created_at=now,
            updated_at=now,
            options=options,
            progress=_final_progress(result) if result else Progress(stage=status.value),
            result=result,
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
        if result is not None:
            fields["result"] = _pack(result.to_dict())
        with self.redis.pipeline() as pipe:
            pipe.hset(self._key(job.id), mapping=fields)
            pipe.expire(self._key(job.id), self.ttl)
            if result is None:
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

    def finish(self, job_id: str, result: Result) -> bool:
        return self._finalize(
            job_id,
            JobStatus.DONE,
            result=_pack(result.to_dict()),
            progress=json.dumps(asdict(_final_progress(result))),
        )

    def fail(self, job_id: str, code: str, message: str) -> bool:
        error = json.dumps({"code": code, "message": message})
        return self._finalize(job_id, JobStatus.FAILED, error=error)

    def cancel(self, job_id: str) -> bool:
        return self._finalize(job_id, JobStatus.CANCELLED)

    def _finalize(self, job_id: str, status: JobStatus, **fields: Any) -> bool:
        """Move an active job to a final status, drop its input and its dedupe claim."""
        _, changed = self._move(job_id, ACTIVE, status=status.value, **fields)
        if changed:
            dedupe_key = self.redis.hget(self._key(job_id), "dedupe_key")
            self.redis.delete(self._key(job_id) + ":input")
            if dedupe_key:
                self.release(dedupe_key.decode(), job_id)
        return changed

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
