"""What follows a job's end, heard durably: consumers of the job-ends stream.

`JobStore.end` appends every end to the `vertaal:job-ends` stream in the same atomic step that
ends the job, whichever process ended it (a worker, the sweeper, the API, a cache hit). Each
consequence of an end reads that stream through a Redis consumer group of its own: the log
line, the finished counters and durations in `/metrics`, the settlement of the key's quota
reservation, and the webhook. A consequence is acknowledged (`XACK`) only once it is done, so a
consumer that dies mid-way leaves its entries pending, and another consumer takes them over
(`XAUTOCLAIM`) after `claim_idle` seconds: at least once. Each consequence is also idempotent
per job: metrics and usage are applied in one transaction with a marker, so a replayed entry
changes nothing; a webhook delivery is claimed per attempt by the task that makes it.

Consumers run in every worker's main process (`workers/worker.py`); a stopped one catches up
when it starts again, from where its group left off. The stream is trimmed by the sweeper's
round (`trim`): an entry goes once every group has acknowledged it and it is older than the
retention (kept for audit and replay); and it never holds more than JOB_ENDS_MAX entries (a
cluster whose consumers have not run for that long loses the oldest, and says so in the log).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from workers.celery_app import WEBHOOK_QUEUE
from workers.jobs.layout import JOB_ENDS
from workers.operations import keys
from workers.operations.logs import job_id_var, request_id_var
from workers.operations.metrics import MetricsRecorder
from workers.operations.webhooks import DELIVER_TASK

log = logging.getLogger(__name__)

MARKER = "vertaal:ended:"  # + group + ":" + job id: this consequence of this end is applied
MARKER_TTL = 7 * 86400


@dataclass(frozen=True)
class End:
    """One entry of the job-ends stream: what its consequences need, without the job record
    (which may have expired by the time a consumer that was down catches up)."""

    entry: str
    job_id: str
    status: str
    code: str
    key_id: str
    reserved: int
    month: str
    billed: int
    callback: bool
    attempts: int
    figures: dict[str, Any]  # seconds, sentences, and `flags` by code (JobStore.end)
    request_id: str

    @classmethod
    def read(cls, entry: bytes, fields: dict[bytes, bytes]) -> End:
        text = {k.decode(): v.decode() for k, v in fields.items()}
        return cls(
            entry=entry.decode(),
            job_id=text["job"],
            status=text["status"],
            code=text.get("code", ""),
            key_id=text.get("key", ""),
            reserved=int(text.get("reserved") or 0),
            month=text.get("month", ""),
            billed=int(text.get("billed") or 0),
            callback=text.get("callback") == "1",
            attempts=int(text.get("attempts") or 0),
            figures=json.loads(text.get("figures") or "{}"),
            request_id=text.get("request", ""),
        )


def apply_once(
    client: redis.Redis, group: str, job_id: str, effects: Callable[[Any], None]
) -> bool:
    """Queue `effects` on a transaction together with this consequence's marker for the job:
    both happen, or (a replay) neither. True when they were applied now."""
    marker = f"{MARKER}{group}:{job_id}"

    def apply(pipe: Any) -> bool:
        if pipe.exists(marker):
            return False
        pipe.multi()
        pipe.set(marker, 1, ex=MARKER_TTL)
        effects(pipe)
        return True

    return bool(client.transaction(apply, marker, value_from_callable=True))


class Consequence:
    """One thing that follows every end; its name is its consumer group's."""

    group = ""

    def __call__(self, client: redis.Redis, end: End) -> None:
        raise NotImplementedError


class LogLine(Consequence):
    group = "log"

    def __call__(self, client: redis.Redis, end: End) -> None:
        if client.exists(f"{MARKER}{self.group}:{end.job_id}"):
            return
        code = f" ({end.code})" if end.code else ""
        tokens = request_id_var.set(end.request_id or None), job_id_var.set(end.job_id)
        try:
            log.info("job %s %s after %d attempt(s)%s", end.job_id, end.status, end.attempts, code)
        finally:
            request_id_var.reset(tokens[0])
            job_id_var.reset(tokens[1])
        client.set(f"{MARKER}{self.group}:{end.job_id}", 1, ex=MARKER_TTL)


class Metrics(Consequence):
    """The finished counter by status and, for a job a worker ran (not a cache hit, which
    carries the original run's timings and flags), its duration, speed and flags by code."""

    group = "metrics"

    def __call__(self, client: redis.Redis, end: End) -> None:
        def count(pipe: Any) -> None:
            recorder = MetricsRecorder(pipe)
            recorder.count("vertaal_jobs_finished", status=end.status)
            figures = end.figures
            if end.status != "done" or end.attempts == 0 or not figures:
                return
            recorder.observe("vertaal_job_duration_seconds", float(figures.get("total", 0.0)))
            if figures.get("translate"):
                speed = float(figures.get("sentences", 0)) / float(figures["translate"])
                recorder.observe("vertaal_sentences_per_second", speed)
            for code, flags in figures.get("flags", {}).items():
                recorder.count("vertaal_sentence_flags", int(flags), code=code)

        apply_once(client, self.group, end.job_id, count)


class Usage(Consequence):
    """The key's reservation settled: refunded, or trued up to what was translated."""

    group = "usage"

    def __call__(self, client: redis.Redis, end: End) -> None:
        if not end.key_id:
            return
        billed = end.billed if end.status == "done" else 0
        apply_once(
            client, self.group, end.job_id,
            lambda pipe: keys.settle(pipe, end.key_id, end.month, end.reserved, billed),
        )  # fmt: skip


class Webhook(Consequence):
    """The callback's first attempt, queued for the webhook workers; the delivery task claims
    each attempt, so a replayed entry queues a task that finds its attempt already made."""

    group = "webhooks"

    def __init__(self, send_task: Callable[..., Any]) -> None:
        self.send_task = send_task

    def __call__(self, client: redis.Redis, end: End) -> None:
        if end.callback:
            self.send_task(DELIVER_TASK, args=[end.job_id, 1, time.time()], queue=WEBHOOK_QUEUE)


class EndConsumer:
    """Reads the stream for every consequence's group, as one named consumer."""

    def __init__(
        self, client: redis.Redis, name: str, consequences: Sequence[Consequence], *,
        claim_idle: float = 60.0, batch: int = 100,
    ) -> None:  # fmt: skip
        self.redis, self.name = client, name
        self.consequences = list(consequences)
        self.claim_idle_ms = int(claim_idle * 1000)
        self.batch = batch

    def ensure_groups(self) -> None:
        """Each group, created at the start of the stream if it is new: it hears every end
        the stream still holds."""
        for consequence in self.consequences:
            try:
                self.redis.xgroup_create(JOB_ENDS, consequence.group, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def run_once(self, block_ms: int | None = None) -> int:
        """Every group's pending work: entries another consumer left unacknowledged too long,
        then new ones (waiting up to `block_ms` on the first group when there are none).
        The number of entries handled."""
        handled = 0
        for consequence in self.consequences:
            handled += self._group(consequence, None)
        if handled == 0 and block_ms and self.consequences:
            handled += self._group(self.consequences[0], block_ms)
        return handled

    def _group(self, consequence: Consequence, block_ms: int | None) -> int:
        group = consequence.group
        _, abandoned, _ = self.redis.xautoclaim(
            JOB_ENDS, group, self.name, self.claim_idle_ms, "0-0", count=self.batch
        )
        found = list(abandoned)
        streams = self.redis.xreadgroup(
            group, self.name, {JOB_ENDS: ">"}, count=self.batch, block=block_ms
        )
        for _, entries in streams or []:
            found += entries
        for entry, fields in found:
            if not fields:  # trimmed away while pending: nothing left to do
                self.redis.xack(JOB_ENDS, group, entry)
                continue
            consequence(self.redis, End.read(entry, fields))
            self.redis.xack(JOB_ENDS, group, entry)
        return len(found)


def trim(client: redis.Redis, groups: Sequence[str], retention: float) -> int:
    """Drop the ends every group has acknowledged that are older than `retention` seconds;
    none while a group does not exist yet. The number dropped."""
    if not client.exists(JOB_ENDS):
        return 0  # no end yet (the consumers create the stream with their groups)
    existing = {g["name"].decode(): g for g in client.xinfo_groups(JOB_ENDS)}
    if not groups or any(name not in existing for name in groups):
        return 0
    seconds, micros = client.time()
    keep_from = (int(seconds) * 1000 + int(micros) // 1000 - int(retention * 1000), 0)
    for name in groups:
        group = existing[name]
        if int(group["pending"]):
            oldest = _entry_id(client.xpending(JOB_ENDS, name)["min"])
        else:
            milliseconds, sequence = _entry_id(group["last-delivered-id"])
            oldest = (milliseconds, sequence + 1)
        keep_from = min(keep_from, oldest)
    minid = f"{keep_from[0]}-{keep_from[1]}"
    return int(client.xtrim(JOB_ENDS, minid=minid, approximate=False))


def _entry_id(entry: bytes) -> tuple[int, int]:
    milliseconds, sequence = entry.decode().split("-")
    return int(milliseconds), int(sequence)


class EndsThread(threading.Thread):
    """A worker's main-process consumer of every consequence, until stopped."""

    def __init__(self, consumer: EndConsumer, *, block: float = 1.0) -> None:
        super().__init__(name="vertaal-ends", daemon=True)
        self.consumer = consumer
        self.block_ms = int(block * 1000)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.consumer.ensure_groups()
                while not self.stopping.is_set():
                    self.consumer.run_once(block_ms=self.block_ms)
            except Exception as error:  # Redis away, a broker error: catch up next round
                log.warning("job-end consumer paused: %s", error)
                self.stopping.wait(1.0)
