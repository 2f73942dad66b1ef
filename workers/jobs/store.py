"""Job records in Redis: the one source of truth for a job's status, shared by API and worker.

Celery reports PENDING for ids it has never seen, so Vertaal keeps its own record per job, a
Redis hash with a TTL. Every move is one Lua script (`scripts.py`) that checks the job's
status first, so a cancel and a worker's progress write can never undo each other. The
worker's side of a job (its start, lease and hand-back) is in `leases.py`, the sweeper's in
`sweeper.py`.

`JobStore.end` is the one place where a job reaches a final status (done, failed, cancelled),
whoever ends it (worker, sweeper, API, web page, cache hit): it records the status, drops the
job's input, lease and dedupe claim, and appends the end to the `vertaal:job-ends` stream in
the same step. What follows an end (webhooks, metrics, usage, the log line) reads that stream
(`workers/operations/ends.py`), so no end goes unheard, whichever process wrote it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from workers.cache import ResultCache
from workers.connections import redis_client
from workers.jobs.layout import (
    DEDUPE_PREFIX,
    JOB_ENDS,
    LEASES,
    RUNNING,
    STAGE_DONE,
    STAGE_QUEUED,
    job_key,
)
from workers.jobs.record import (
    FINAL,
    Delivery,
    JobError,
    JobOptions,
    JobRecord,
    JobStatus,
    Progress,
)
from workers.jobs.scripts import Scripts
from workers.pipeline.article import Result, SourceFile
from workers.settings import Settings

JOB_ID = re.compile(r"[0-9a-f]{32}")


def now_iso() -> str:
    """A timestamp for people to read (updated_at, started_at); never used for a deadline."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_delivery() -> str:
    return uuid.uuid4().hex


def _final_progress(result: Result, attempt: int) -> Progress:
    total = sum(len(p) for p in result.source.paragraphs) + (1 if result.source.title else 0)
    return Progress(total, total, STAGE_DONE, attempt)


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode())


def _unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data))


def _text(data: dict[str, bytes], name: str) -> str | None:
    value = data.get(name)
    return value.decode() or None if value else None


@dataclass(frozen=True)
class FileOut:
    """A document job's translated file: its bytes and media type."""

    data: bytes
    media_type: str


class JobStore:
    """Create, read and end job records; every method is one or two Redis round trips."""

    def __init__(self, client: redis.Redis, ttl: int, *, results: ResultCache | None = None):
        self.redis = client
        self.ttl = ttl
        # Where results that jobs point at live (the cache): a job never copies one.
        self.results = results
        self.scripts = Scripts(client)

    def run(self, script: str, job_id: str, *args: Any, keys: tuple[str, ...] = ()) -> Any:
        """One of the lifecycle's scripts on this job (its hash is the first key)."""
        return self.scripts.run(script, [job_key(job_id), *keys], list(args))

    def create(
        self,
        source: SourceFile,
        options: JobOptions,
        *,
        filename: str | None = None,
        dedupe_key: str | None = None,
        keep_input: bool = True,
        check_after: float | None = 60.0,
        api_key: str | None = None,
        owner: str | None = None,
        callback_url: str | None = None,
        reserved: int = 0,
        reserved_month: str | None = None,
        request_id: str | None = None,
    ) -> JobRecord:
        """A new queued job with its first delivery id, holding its input unless `keep_input`
        is false (a job about to be ended at once, from the cache). After `check_after`
        seconds the sweeper makes sure its message is still in the broker; with None, the job
        is not enqueued yet (`enqueue`): no worker can take it before its dedupe claim is won."""
        now = now_iso()
        job = JobRecord(
            id=uuid.uuid4().hex,
            status=JobStatus.QUEUED,
            created_at=now,
            updated_at=now,
            options=options,
            progress=Progress(stage=STAGE_QUEUED),
            filename=filename,
            dedupe_key=dedupe_key,
            delivery=new_delivery(),
            api_key=api_key,
            callback_url=callback_url,
            owner=owner,
            reserved=reserved,
            reserved_month=reserved_month,
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
            "owner": owner or "",
            "callback_url": callback_url or "",
            "reserved": reserved,
            "reserved_month": reserved_month or "",
            # The request that sent it: the log line of its end, wherever written, names it.
            "request_id": request_id or "",
        }
        check = "" if check_after is None or not keep_input else int(check_after * 1000)
        data = zlib.compress(source.data, 1) if keep_input else b""
        pairs = [item for pair in fields.items() for item in pair]
        self.run(
            "CREATE", job.id, self.ttl, check, int(keep_input), data, *pairs,
            keys=(job_key(job.id) + ":input", LEASES),
        )  # fmt: skip
        return job

    def enqueue(self, job_id: str, check_after: float) -> None:
        """Make a created job visible to workers and the sweeper (see `create`)."""
        self.run("ENQUEUE", job_id, job_id, int(check_after * 1000), keys=(LEASES,))

    def version(self, job_id: str) -> str | None:
        """What changes whenever the job's view does (its status, progress, end, callback
        deliveries), read without the job itself; None for an unknown job. An ETag."""
        if not JOB_ID.fullmatch(job_id):
            return None
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(job_key(job_id), "status", "updated_at")
            pipe.llen(job_key(job_id) + ":deliveries")
            (status, updated), deliveries = pipe.execute()
        if status is None:
            return None
        seen = b"|".join((status, updated or b"", str(deliveries).encode()))
        return hashlib.sha256(job_id.encode() + b"|" + seen).hexdigest()[:32]

    def owner(self, job_id: str) -> str | None:
        """Who may see the job ("" for a job made before owners were kept); None if unknown."""
        if not JOB_ID.fullmatch(job_id):
            return None
        found = self.redis.hmget(job_key(job_id), "id", "owner")
        return None if found[0] is None else (found[1] or b"").decode()

    def get(self, job_id: str, *, with_result: bool = True) -> JobRecord | None:
        """The job, or None for an unknown, expired or malformed id. Without `with_result`,
        its result is not read (a poller's light view; and the cache is not touched)."""
        if not JOB_ID.fullmatch(job_id):
            return None
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(job_key(job_id))
            pipe.lrange(job_key(job_id) + ":deliveries", 0, -1)
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
            owner=_text(data, "owner"),
            reserved=int(data.get("reserved", b"0") or 0),
            reserved_month=_text(data, "reserved_month"),
        )

    def record_delivery(self, job_id: str, delivery: Delivery) -> None:
        """Note one attempt to deliver the job's callback, kept as long as the job."""
        key = job_key(job_id) + ":deliveries"
        with self.redis.pipeline() as pipe:
            pipe.rpush(key, json.dumps(asdict(delivery)))
            pipe.expire(key, self.ttl)
            pipe.execute()

    def delete(self, job_id: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.delete(job_key(job_id), job_key(job_id) + ":input")
            pipe.zrem(LEASES, job_id)
            pipe.srem(RUNNING, job_id)
            pipe.execute()

    def get_input(self, job_id: str) -> SourceFile | None:
        with self.redis.pipeline() as pipe:
            pipe.hget(job_key(job_id), "input_name")
            pipe.get(job_key(job_id) + ":input")
            name, data = pipe.execute()
        return SourceFile(name.decode(), zlib.decompress(data)) if name and data else None

    def status(self, job_id: str) -> JobStatus | None:
        value = self.redis.hget(job_key(job_id), "status")
        return JobStatus(value.decode()) if value else None

    # --- a document job's key and file (the DeepL and LibreTranslate file protocols) -------

    def lock(self, job_id: str, secret: str) -> None:
        """Only who holds `secret` may read the job's file (a DeepL document's key, a
        LibreTranslate file's token); kept hashed."""
        self.redis.hset(job_key(job_id), "secret", hashlib.sha256(secret.encode()).hexdigest())

    def unlocks(self, job_id: str, secret: str) -> bool:
        stored = self.redis.hget(job_key(job_id), "secret")
        given = hashlib.sha256(secret.encode()).hexdigest().encode()
        return stored is not None and hmac.compare_digest(stored, given)

    def get_file(self, job_id: str) -> FileOut | None:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(job_key(job_id) + ":file")
            pipe.hget(job_key(job_id), "file_type")
            data, media_type = pipe.execute()
        return FileOut(zlib.decompress(data), media_type.decode()) if data and media_type else None

    def drop_file(self, job_id: str) -> None:
        self.redis.delete(job_key(job_id) + ":file")

    # --- the end ---------------------------------------------------------------------------

    def end(
        self,
        job_id: str,
        status: JobStatus,
        *,
        result: Result | None = None,
        result_key: str | None = None,
        error: JobError | None = None,
        delivery: str | None = None,
        file: FileOut | None = None,
    ) -> bool:
        """Move an active job to its final `status`: done with its `result` (stored in the
        job, or, with `result_key`, pointed at where the cache holds it; with a document's
        `file`), failed with its `error`, or cancelled. A worker passes its `delivery`: a
        worker whose job was given to another delivery meanwhile cannot end it. False (and
        nothing appended to the stream) when the job was not active or not this delivery's."""
        if status not in FINAL or (status is JobStatus.DONE) != (result is not None):
            raise ValueError(f"cannot end a job as {status} with result={result is not None}")
        if (status is JobStatus.FAILED) != (error is not None):
            raise ValueError("a failed job needs an error, and only a failed job has one")
        fields: list[Any] = []
        billed, figures = 0, dict[str, Any]()
        if result is not None:
            attempts = int(self.redis.hget(job_key(job_id), "attempts") or 0)
            stored = (
                ("result_key", result_key) if result_key else ("result", _pack(result.to_dict()))
            )
            fields += [*stored, "progress", json.dumps(asdict(_final_progress(result, attempts)))]
            billed = result.characters()
            figures = {
                "total": result.timings.get("total", 0.0),
                "translate": result.timings.get("translate", 0.0),
                "sentences": sum(len(p) for p in result.source.paragraphs),
                # The checks' flags by code: counted once per end, in /metrics.
                "flags": result.checks.counts if result.checks else {},
            }
        if error is not None:
            fields += ["error", json.dumps(asdict(error))]
        outcome = self.run(
            "END", job_id, status.value, job_id, now_iso(), delivery or "",
            zlib.compress(file.data, 1) if file else b"", file.media_type if file else "",
            billed, error.code if error else "", self.ttl, json.dumps(figures), *fields,
            keys=(job_key(job_id) + ":input", LEASES, JOB_ENDS, RUNNING, job_key(job_id) + ":file"),
        )  # fmt: skip
        return bool(outcome == b"ended")

    def fail(self, job_id: str, code: str, message: str, *, delivery: str | None = None) -> bool:
        return self.end(job_id, JobStatus.FAILED, error=JobError(code, message), delivery=delivery)

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
            if self.run("JOINABLE", holder.decode()):
                return str(holder.decode())
            self.release(dedupe_key, holder.decode())  # over, gone, or its worker died
        return None

    def release(self, dedupe_key: str, job_id: str) -> None:
        self.scripts.run("RELEASE", [DEDUPE_PREFIX + dedupe_key], [job_id])


def job_store(settings: Settings) -> JobStore:
    """The job store every door uses."""
    return JobStore(
        redis_client(settings.redis_url),
        settings.job_ttl,
        results=ResultCache(redis_client(settings.cache_redis_url()), settings.cache_ttl),
    )
