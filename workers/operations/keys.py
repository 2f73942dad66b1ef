"""API keys: who may use the service, how fast, and how many characters a month.

A key is shown once, when it is made; Redis keeps only its SHA-256, so a leaked database
gives no usable key. Each key also gets a webhook signing secret (shown once too), with
which Vertaal signs the callbacks of that key's jobs. An operator key (`--operator`) may read
every key's jobs, for support; each such read is logged.

Characters are counted per key and month. A job or text reserves its submitted size when it is
accepted, in one atomic step that refuses what does not fit the quota (so parallel requests
can never overshoot it); when the job ends, the reservation is settled (`settle`, a consumer
of the job-ends stream): refunded for a failed or cancelled job, trued up to the characters
actually translated for a done one. Billing never exceeds the reservation.
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

from workers.errors import VertaalError

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
    operator: bool = False  # reads every key's jobs (support); never anyone's quota


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


class QuotaExceededError(VertaalError):
    """A request that does not fit what is left of its key's monthly quota; each door answers
    in its protocol's status (API 403, DeepL 456, LibreTranslate 403)."""

    code = "quota_exceeded"
    http_status = 403


@dataclass(frozen=True)
class Reservation:
    """Characters held against a key's quota for one job or request, in the month they were
    taken from (a job that ends next month is settled against this one)."""

    key_id: str
    chars: int
    month: str


# KEYS: the key's usage counter for the month. ARGV: characters, limit (-1: none), ttl s.
# {1, used} when they fit and are now held; {0, used} when they do not.
RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[2])
if limit >= 0 and used + tonumber(ARGV[1]) > limit then return {0, used} end
used = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, used}
"""
USAGE_KEPT = 400 * 86400  # a year of monthly figures, then gone


class KeyStore:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._reserve = client.register_script(RESERVE)

    def create(
        self, name: str, *, chars_per_month: int | None = None, rate: str | None = None,
        operator: bool = False,
    ) -> NewKey:  # fmt: skip
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
            operator=operator,
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

    def reserve(self, record: ApiKey, chars: int) -> Reservation:
        """Hold `chars` against the key's quota this month, or QuotaExceededError (nothing
        held) when they do not fit what is left."""
        when = month()
        limit = record.chars_per_month if record.chars_per_month is not None else -1
        fits, used = self._reserve(
            keys=[f"{USAGE}{record.id}:{when}"], args=[chars, limit, USAGE_KEPT]
        )
        if not fits:
            left = max(0, limit - int(used))
            raise QuotaExceededError(
                f"this request holds {chars:,} characters, and the key '{record.name}' has "
                f"{left:,} of its {limit:,} characters left this month"
            )
        return Reservation(record.id, chars, when)

    def release(self, reservation: Reservation) -> None:
        """Give a reservation back whole (a request that was not answered)."""
        self.redis.decrby(f"{USAGE}{reservation.key_id}:{reservation.month}", reservation.chars)


def settle(pipe: redis.client.Pipeline, key_id: str, when: str, reserved: int, billed: int) -> None:
    """Queue, on a transaction's pipeline, the true-up of one job's reservation: the key pays
    what was translated, never more than was reserved (0 for a failed or cancelled job)."""
    charged = min(billed, reserved) if reserved else billed
    if charged != reserved:
        usage = f"{USAGE}{key_id}:{when or month()}"
        pipe.incrby(usage, charged - reserved)
        pipe.expire(usage, USAGE_KEPT)
