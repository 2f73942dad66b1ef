"""The job-ends stream's consumers: every consequence once per end, whoever ended the job,
whichever consumer reads it, however often an entry is replayed; the stream trimmed only
past what every group has read."""

from dataclasses import replace
from typing import Any

import pytest
import redis

from workers.connections import redis_client
from workers.jobs.layout import JOB_ENDS
from workers.jobs.leases import Leases
from workers.jobs.record import JobError, JobOptions, JobStatus
from workers.jobs.store import JobStore
from workers.operations import ends
from workers.operations.keys import KeyStore
from workers.operations.metrics import COUNTERS
from workers.pipeline.article import Checks, Models, Result, Source, SourceFile, Translation
from workers.pipeline.checks.sentence import Check, Flag


class Sent:
    """Celery's send_task, recording what the webhook consequence queues."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, list[Any]]] = []

    def __call__(self, name: str, args: list[Any], queue: str) -> None:
        self.tasks.append((name, args))


@pytest.fixture
def client(redis_db: str) -> redis.Redis:
    return redis_client(redis_db)


def consumer(client: redis.Redis, name: str, sent: Sent, idle: float = 60) -> ends.EndConsumer:
    made = ends.EndConsumer(
        client, name, [ends.LogLine(), ends.Metrics(), ends.Usage(), ends.Webhook(sent)],
        claim_idle=idle,
    )  # fmt: skip
    made.ensure_groups()
    return made


def result(chars: int) -> Result:
    return Result(
        source=Source(title=None, date=None, paragraphs=[["x" * chars]]),
        translation=Translation(title=None, paragraphs=[["y"]]),
        summary=None, removed=[], models=Models("m", None),
        timings={"total": 2.0, "translate": 1.0},
    )  # fmt: skip


def finished(client: redis.Redis, status: str) -> int:
    return int(client.hget(COUNTERS, f"vertaal_jobs_finished|status={status}") or 0)


def test_each_end_has_each_consequence_once_even_when_replayed(client: redis.Redis) -> None:
    keys = KeyStore(client)
    key = keys.create("newsroom", chars_per_month=1_000).record
    store = JobStore(client, ttl=60)
    done_reserved = keys.reserve(key, 300)
    done = store.create(
        SourceFile.pasted("x" * 300), JobOptions(), api_key=key.id, owner="key:" + key.id,
        callback_url="https://example.org/hook", reserved=300, reserved_month=done_reserved.month,
    )  # fmt: skip
    failed_reserved = keys.reserve(key, 200)
    failed = store.create(
        SourceFile.pasted("x" * 200), JobOptions(), api_key=key.id, reserved=200,
        reserved_month=failed_reserved.month,
    )  # fmt: skip
    assert keys.usage(key.id) == 500, "both held while they run"
    store.end(done.id, JobStatus.DONE, result=result(120))
    store.end(failed.id, JobStatus.FAILED, error=JobError("timeout", "too long"))

    sent = Sent()
    first = consumer(client, "first", sent)
    assert first.run_once() == 8, "two ends, four consequences each"
    assert keys.usage(key.id) == 120, "the done job billed what it translated, the other refunded"
    assert finished(client, "done") == 1 and finished(client, "failed") == 1
    assert sent.tasks == [(ends.DELIVER_TASK, [done.id, 1, sent.tasks[0][1][2]])]

    # Replay every entry (a consumer that died before acknowledging would leave them so).
    for group in ("log", "metrics", "usage", "webhooks"):
        client.xgroup_setid(JOB_ENDS, group, id="0")
    assert consumer(client, "second", sent).run_once() == 8
    assert keys.usage(key.id) == 120 and finished(client, "done") == 1, "applied once"


def test_flags_are_counted_by_code_once_per_job_a_worker_ran(client: redis.Redis) -> None:
    number = Flag(Check.NUMBER_MISSING, "expected 12")
    dutch = Flag(Check.UNTRANSLATED, "the translation still reads as Dutch")
    flagged = replace(result(40), checks=Checks.of([number], [[[number, dutch]]]))
    store = JobStore(client, ttl=60)
    ran = store.create(SourceFile.pasted("Zin."), JobOptions())
    assert ran.delivery
    Leases(store).start(ran.id, ran.delivery, "w", lease=10, cap=3)
    store.end(ran.id, JobStatus.DONE, result=flagged, delivery=ran.delivery)
    cached = store.create(SourceFile.pasted("Zin."), JobOptions())
    store.end(cached.id, JobStatus.DONE, result=flagged)  # never started: a cache hit
    reader = consumer(client, "reader", Sent())
    assert reader.run_once() == 8
    for group in ("log", "metrics", "usage", "webhooks"):
        client.xgroup_setid(JOB_ENDS, group, id="0")
    reader.run_once()  # a replay counts nothing again

    counted = {
        field.decode(): int(value)
        for field, value in client.hgetall(COUNTERS).items()
        if field.startswith(b"vertaal_sentence_flags|")
    }
    assert counted == {
        "vertaal_sentence_flags|code=number_missing": 2,
        "vertaal_sentence_flags|code=untranslated": 1,
    }, "the worker's job only, each flag once, the title's too"


def test_a_consumer_that_died_mid_way_is_taken_over(client: redis.Redis) -> None:
    store = JobStore(client, ttl=60)
    job = store.create(SourceFile.pasted("Zin."), JobOptions())
    store.end(job.id, JobStatus.CANCELLED)
    for group in ("log", "metrics", "usage", "webhooks"):
        client.xgroup_create(JOB_ENDS, group, id="0")
    # "dead" reads the entry in every group, then dies before acknowledging any.
    for group in ("log", "metrics", "usage", "webhooks"):
        client.xreadgroup(group, "dead", {JOB_ENDS: ">"})
    survivor = consumer(client, "survivor", Sent(), idle=0)
    assert survivor.run_once() == 4
    assert finished(client, "cancelled") == 1
    pending = client.xpending(JOB_ENDS, "metrics")
    assert pending["pending"] == 0


def test_the_stream_is_trimmed_only_past_what_every_group_acknowledged(
    client: redis.Redis,
) -> None:
    groups = ["log", "metrics", "usage", "webhooks"]
    assert ends.trim(client, groups, retention=0) == 0, "no stream yet: nothing to trim"
    store = JobStore(client, ttl=60)
    for _ in range(3):
        job = store.create(SourceFile.pasted("Zin."), JobOptions())
        store.end(job.id, JobStatus.CANCELLED)
    assert ends.trim(client, groups, retention=0) == 0, "no group yet: nothing is dropped"
    reader = consumer(client, "reader", Sent())
    # Every group but one reads everything.
    for consequence in reader.consequences[:-1]:
        reader._group(consequence, None)
    assert ends.trim(client, groups, retention=0) == 0, "the webhooks group has read nothing"
    reader._group(reader.consequences[-1], None)
    assert ends.trim(client, groups, retention=3600) == 0, "kept for the retention"
    assert ends.trim(client, groups, retention=0) == 3
    job = store.create(SourceFile.pasted("Zin."), JobOptions())
    store.end(job.id, JobStatus.CANCELLED)
    assert reader.run_once() == 4
