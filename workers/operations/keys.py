"""API keys: who may use the service, how fast, and how many characters a month.

A key is shown once, when it is made; Redis keeps only its SHA-256, so a leaked database
gives no usable key. Each key also gets a webhook signing secret (shown once too), with
which Vertaal signs the callbacks of that key's jobs. Characters are counted per key and
month when a job's translation is done (`count_usage`, a job-end listener).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import redis

from workers.jobs.record import JobRecord, JobStatus

KEYS = "vertaal:apikeys"  # hash: key id -> the key's record (JSON)
BY_HASH = "vertaal:apikey:"  # + sha256 of the key -> key id
USAGE = "vertaal:usage:"  # + key id + ":" + YYYY-MM -> characters
KEY_PREFIX = "vk_"
RATE = re.compile(
    r"^\d+\s*/\s*(second|minute|hour|day)(\s*;\s*\d+\s*/\s*(second|minute|hour|day))*$"
)


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    created_at: str
    chars_per_month: int | None = None
    rate: str | None = None  # a Flask-Limiter rate ("600/minute;10000/day"); None = default
    revoked: bool = False
    webhook_secret: str = ""


@dataclass(frozen=True)
class NewKey:
    """What `create` hands out once: the key itself and its webhook secret."""

    record: ApiKey
    key: str


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def valid_rate(rate: str) -> bool:
    return bool(RATE.match(rate.strip()))


def article_chars(job: JobRecord) -> int:
    """The characters of a done job's Dutch text (title and sentences): what was translated."""
    if job.result is None:
        return 0
    source = job.result.source
    return len(source.title or "") + sum(len(s) for p in source.paragraphs for s in p)


class KeyStore:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def create(
        self, name: str, *, chars_per_month: int | None = None, rate: str | None = None
    ) -> NewKey:
        if rate is not None and not valid_rate(rate):
            raise ValueError(f"{rate!r} is not a rate such as 60/minute or 600/minute;10000/day")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(
            id=uuid.uuid4().hex[:12],
            name=name,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            chars_per_month=chars_per_month,
            rate=rate,
            webhook_secret=secrets.token_urlsafe(32),
        )
        with self.redis.pipeline() as pipe:
            pipe.hset(KEYS, record.id, json.dumps(asdict(record)))
            pipe.set(BY_HASH + digest(key), record.id)
            pipe.execute()
        return NewKey(record, key)

    def get(self, key_id: str) -> ApiKey | None:
        raw = self.redis.hget(KEYS, key_id)
        return ApiKey(**json.loads(raw)) if raw else None

    def all(self) -> list[ApiKey]:
        records = [ApiKey(**json.loads(raw)) for raw in self.redis.hvals(KEYS)]
        return sorted(records, key=lambda record: record.created_at)

    def find(self, key: str) -> ApiKey | None:
        """The key's record, if the key is one of ours (revoked ones included)."""
        key_id = self.redis.get(BY_HASH + digest(key))
        record = self.get(key_id.decode()) if key_id else None
        # The lookup was by hash already; compare again in constant time for good measure.
        if record is None or not hmac.compare_digest(key_id.decode(), record.id):
            return None
        return record

    def revoke(self, key_id: str) -> ApiKey | None:
        record = self.get(key_id)
        if record is None:
            return None
        revoked = ApiKey(**{**asdict(record), "revoked": True})
        self.redis.hset(KEYS, key_id, json.dumps(asdict(revoked)))
        return revoked

    def usage(self, key_id: str, when: str | None = None) -> int:
        return int(self.redis.get(f"{USAGE}{key_id}:{when or month()}") or 0)

    def add_usage(self, key_id: str, chars: int) -> None:
        key = f"{USAGE}{key_id}:{month()}"
        with self.redis.pipeline() as pipe:
            pipe.incrby(key, chars)
            pipe.expire(key, 400 * 86400)  # a year of monthly figures, then gone
            pipe.execute()

    def over_quota(self, record: ApiKey) -> bool:
        limit = record.chars_per_month
        return limit is not None and self.usage(record.id) >= limit

    def count_usage(self, job: JobRecord) -> None:
        """Job-end listener: a done job's characters count against the key that sent it."""
        if job.status is JobStatus.DONE and job.api_key:
            self.add_usage(job.api_key, article_chars(job))
