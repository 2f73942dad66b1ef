"""The Celery task: claim the job for this delivery, run the pipeline under a lease, end it.

Everything about translating lives in `workers.pipeline`; this module only moves job records
through their statuses (`workers/jobs/`). Delivery is at-least-once (acks_late), and a message
may arrive after the sweeper gave its job a new delivery: only the job's current delivery runs
it, and only it can end it.

A task may run several queued articles together (their summaries share the model's batches).
Each article still ends on its own, as it would alone: an article's own error fails only it;
a failure that hits the whole batch (its models cannot load) ends every job of it at once with
the status each would get alone; a time limit fails only the job(s) that ran past their own
limit and hands the others back to the queue without counting an attempt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import redis
from billiard.exceptions import Terminated, WorkerLostError
from celery import Celery, Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from celery.worker.request import Request

from workers import replies
from workers.cache import (
    CacheUnavailableError,
    ResultCache,
    SentenceCache,
    article_key,
    content_digest,
)
from workers.celery_app import SHORT_TASK, TASK_NAME, create_celery, send_job, settings_of
from workers.connections import redis_client
from workers.errors import INTERRUPTIONS, CancelledError, VertaalError
from workers.jobs.layout import MAX_ATTEMPTS, job_key
from workers.jobs.leases import Claimed, Lease, Leases
from workers.jobs.record import JobRecord, JobStatus
from workers.jobs.store import FileOut, JobStore, job_store
from workers.jobs.sweeper import worker_lost_message
from workers.operations import heartbeats
from workers.operations.timeline import Timeline
from workers.pipeline.article import Result, SourceFile
from workers.settings import Settings
from workers.translating import (
    ArticleWork,
    Made,
    cached_signature,
    translate_job,
    translate_jobs,
    translate_texts,
)

log = logging.getLogger(__name__)

# How often a worker waiting for company looks for more queued articles.
BATCH_POLL = 0.05


class JobRequest(Request):
    """A job message in the worker's main process. When the child process running it dies
    (a kill, out of memory), Celery requeues the message without telling the task: its
    jobs' leases end here first, so the requeued message starts the job again at once (the
    attempt counted: it was a crash) rather than after the lease would have lapsed."""

    def on_failure(
        self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
    ) -> Any:
        exc = getattr(exc_info, "exception", None)
        exc = getattr(exc, "exc", exc)  # ExceptionWithTraceback
        if isinstance(exc, WorkerLostError) and len(self.args) >= 2:
            job_id, delivery = self.args[0], self.args[1]
            log.warning("job %s lost its worker process: %s", job_id, exc)
            try:
                leases = Leases(job_store(settings_of(self.task.app)))
                for held, theirs in leases.taken_by(delivery):
                    leases.lapse(held, theirs)
            except redis.RedisError:
                log.exception("could not end the leases of job %s", job_id)
        return super().on_failure(exc_info, send_failed_event, return_ok)


class JobTask(Task):
    """Ends the job for errors the task body did not handle itself. Celery also calls this,
    in the worker's main process, when it kills a job at the hard time limit: the task's own
    job ran past it; the articles it had taken with it go back to the queue, their attempt
    not counted."""

    Request = JobRequest

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        settings = settings_of(self.app)
        job_id, delivery = args[0], args[1]
        if isinstance(exc, WorkerLostError | Terminated):
            return  # see JobRequest: its leases ended, its message is requeued
        store = job_store(settings)
        try:
            if isinstance(exc, TimeLimitExceeded):
                message = f"the article was stopped after {settings.hard_time_limit} seconds"
                store.fail(job_id, "timeout", message, delivery=delivery)
                _hand_back_company(Leases(store), delivery, settings, self.app)
            else:
                message = f"the worker failed: {type(exc).__name__}: {exc}"
                store.fail(job_id, "internal_error", message, delivery=delivery)
        except redis.RedisError:
            log.exception("could not end job %s", job_id)


def _hand_back_company(leases: Leases, delivery: str, settings: Settings, app: Celery) -> None:
    """The jobs a task took with its own (their deliveries derive from its own), queued again
    without counting their attempt."""
    for job_id, theirs in leases.taken_by(delivery):
        if theirs != delivery:
            _hand_back(leases, job_id, theirs, settings, app)


def _hand_back(leases: Leases, job_id: str, delivery: str, settings: Settings, app: Celery) -> None:
    fresh = leases.hand_back(job_id, delivery, check_after=settings.lease_seconds)
    if fresh is not None:
        send_job(app, job_id, fresh)
        log.info("job %s handed back to the queue; its attempt is not counted", job_id)


@shared_task(name=TASK_NAME, base=JobTask, bind=True)
def translate_article_task(self: Task, job_id: str, delivery: str) -> None:
    worker = f"{self.request.hostname} pid {os.getpid()}"
    run_job(job_id, delivery, settings_of(self.app), worker=worker, app=self.app)


# Inputs a worker takes together in one batch, in bytes: about 20 long news articles. A batch
# runs under one task's time limit, so a larger article runs alone.
BATCH_MAX_BYTES = 200_000


@dataclass(frozen=True)
class Taken:
    """A job this task runs: started by its own message, or claimed to run with it; its own
    time limit counts from `started` (monotonic)."""

    job_id: str
    delivery: str
    attempt: int
    source: SourceFile
    job: JobRecord
    started: float


def run_job(
    job_id: str, delivery: str, settings: Settings, *, worker: str, app: Celery | None = None
) -> None:
    timeline = Timeline()
    store = job_store(settings)
    leases = Leases(store)
    started = leases.start(job_id, delivery, worker, lease=settings.lease_seconds, cap=MAX_ATTEMPTS)
    if started.outcome == "exhausted":
        last = (store.redis.hget(job_key(job_id), "last_lost") or b"").decode()
        store.fail(job_id, "worker_lost", worker_lost_message(last, started.attempt - 1))
        return
    if started.outcome != "running":
        log.info("skipping a message for job %s: it is %s", job_id, started.outcome)
        return  # expired, over, cancelled while queued, or another delivery is current
    own = _taken(store, job_id, delivery, started.attempt, timeline.started)
    if own is None:
        return
    batch = [own]
    # A job that started before (its worker died) runs alone: if its article is what kills
    # workers, it takes no other article down with it.
    if (
        own.job.options.kind == "article"
        and started.attempt == 1
        and len(own.source.data) <= BATCH_MAX_BYTES
    ):
        batch += _company(leases, own, settings, worker)
    timeline.articles = len(batch)
    try:
        _run(leases, batch, settings, app or create_celery(settings), timeline)
    finally:
        timeline.record(store.redis, worker)


def _taken(
    store: JobStore, job_id: str, delivery: str, attempt: int, started: float
) -> Taken | None:
    source = store.get_input(job_id)
    job = store.get(job_id, with_result=False)
    if source is None or job is None:
        # Its input key expired or was evicted: fail the job so it releases its dedupe
        # claim rather than stay queued for a day.
        store.fail(job_id, "input_lost", "the article's text is no longer stored; submit it again",
                   delivery=delivery)  # fmt: skip
        return None
    return Taken(job_id, delivery, attempt, source, job, started)


def _company(leases: Leases, own: Taken, settings: Settings, worker: str) -> list[Taken]:
    """Queued articles to run with this one (their summaries batched), waiting up to
    VERTAAL_BATCH_WAIT once for more to arrive; none when batching is off."""
    wanted = settings.batch_articles - 1
    if wanted <= 0:
        return []
    budget = BATCH_MAX_BYTES - len(own.source.data)
    # With several workers, each takes its share of what waits, so none idles while another
    # holds the queue in its batch.
    processes = heartbeats.live_processes(leases.store.redis, settings.heartbeat_seconds)
    claimed: list[tuple[Claimed, float]] = []
    deadline = time.monotonic() + settings.batch_wait
    while wanted > len(claimed):
        found = leases.claim_queued(
            worker, f"{own.delivery}.{len(claimed)}", lease=settings.lease_seconds,
            count=wanted - len(claimed), budget=budget - sum(c.size for c, _ in claimed),
            processes=processes, held=len(claimed),
        )  # fmt: skip
        claimed += [(c, time.monotonic()) for c in found]
        if time.monotonic() >= deadline:
            break
        time.sleep(min(BATCH_POLL, max(0.0, deadline - time.monotonic())))
    if claimed:
        log.info("job %s runs with %d queued articles", own.job_id, len(claimed))
    taken = [
        _taken(leases.store, c.job_id, c.delivery, c.attempt, at) for c, at in claimed
    ]  # fmt: skip
    return [t for t in taken if t is not None]


def _run(
    leases: Leases, batch: list[Taken], settings: Settings, app: Celery, timeline: Timeline
) -> None:
    """Run the jobs under their leases, then end each on its own."""
    with ExitStack() as stack:
        held = [
            stack.enter_context(Lease(
                leases, t.job_id, t.delivery, settings.lease_seconds, t.attempt,
                time_limit=settings.soft_time_limit - (time.monotonic() - t.started),
                out_of_time=f"the article took longer than {settings.soft_time_limit} s",
            ))
            for t in batch
        ]  # fmt: skip
        work = [
            ArticleWork(t.source, t.job.options, lease)
            for t, lease in zip(batch, held, strict=True)
        ]
        timeline.add("claim", time.monotonic() - timeline.started)
        try:
            if len(batch) == 1:
                made: list[Made | Exception] = [_alone(work[0], settings, timeline)]
            else:
                made = translate_jobs(work, settings, timeline)
        except SoftTimeLimitExceeded:
            _out_of_time(leases, batch, held, settings, app)
            return
        except Exception as error:  # it hit the whole batch (its models did not load...)
            log.error("a batch of %d job(s) failed as a whole", len(batch), exc_info=error)
            made = [error] * len(batch)
    with timeline.stage("write"):
        for taken, lease, outcome in zip(batch, held, made, strict=True):
            _conclude(leases, taken, lease, outcome, settings, app)


def _out_of_time(
    leases: Leases, batch: list[Taken], held: list[Lease], settings: Settings, app: Celery
) -> None:
    """The task's soft time limit: the task's own job (started with it) ran the whole limit
    and fails as timed out, as does any other past its own; the rest go back to the queue."""
    for number, (taken, lease) in enumerate(zip(batch, held, strict=True)):
        if number == 0 or lease.timed_out:
            message = f"the article took longer than {settings.soft_time_limit} s"
            leases.store.fail(taken.job_id, "timeout", message, delivery=taken.delivery)
        else:
            _hand_back(leases, taken.job_id, taken.delivery, settings, app)


def _alone(work: ArticleWork, settings: Settings, timeline: Timeline) -> Made | Exception:
    try:
        return translate_job(work.source, work.options, settings, work.on_progress, timeline)
    except INTERRUPTIONS:
        raise
    except (CancelledError, VertaalError) as error:
        return error


def _conclude(
    leases: Leases, taken: Taken, lease: Lease, outcome: Made | Exception, settings: Settings,
    app: Celery,
) -> None:  # fmt: skip
    store, job_id = leases.store, taken.job_id
    if lease.abandoned:
        # Cut off from Redis for a whole lease: the job may be another worker's now. If it is
        # still ours, it goes back to the queue (this worker did not die); if not, the run
        # that has it stands. Nothing of this run is kept.
        try:
            _hand_back(leases, job_id, taken.delivery, settings, app)
        except redis.RedisError as error:
            log.warning("job %s abandoned; the sweeper will queue it again (%s)", job_id, error)
        return
    if isinstance(outcome, CancelledError):
        return  # cancelled, handed back, or taken over by a new delivery: nothing is kept
    if isinstance(outcome, VertaalError):
        _ended(store.fail(job_id, outcome.code, str(outcome), delivery=taken.delivery), job_id)
        return
    if isinstance(outcome, Exception):
        log.error("job %s failed", job_id, exc_info=outcome)
        message = f"the worker failed: {type(outcome).__name__}: {outcome}"
        _ended(store.fail(job_id, "internal_error", message, delivery=taken.delivery), job_id)
        return
    made = outcome
    if made.file is not None:  # a document: the file is its download, nothing to cache
        file = FileOut(made.file.data, made.file.media_type)
        done = store.end(
            job_id, JobStatus.DONE, result=made.result, delivery=taken.delivery, file=file
        )
        if _ended(done, job_id) and made.as_signed:
            made.sentences.flush()
        return
    if not made.as_signed:
        log.warning("job %s ran on a fallback engine; its result is not cached", job_id)
        _ended(store.end(job_id, JobStatus.DONE, result=made.result, delivery=taken.delivery),
               job_id)  # fmt: skip
        return
    key = article_key(cached_signature(settings), content_digest(taken.source), taken.job.options)
    _finish(store, taken, key, made.result, made.sentences, settings)


def _ended(ended: bool, job_id: str) -> bool:
    if not ended:
        log.warning(
            "job %s was no longer this worker's to end (cancelled, or taken over by another "
            "delivery); this run's outcome is dropped", job_id,
        )  # fmt: skip
    return ended


def _finish(
    store: JobStore,
    taken: Taken,
    key: str,
    result: Result,
    sentences: SentenceCache,
    settings: Settings,
) -> None:
    """Cache the result, then end the job pointing at it (or holding it, when it cannot be
    cached): a job record never copies a cached result. A job cancelled after its last batch
    wins, and what it cached is taken back."""
    job_id = taken.job_id
    results = ResultCache(redis_client(settings.cache_redis_url()), settings.cache_ttl)
    created = cached = False
    try:
        created = results.put(key, result)
        cached = created or results.has(key)
    except (redis.RedisError, CacheUnavailableError) as error:  # down, full, read-only...
        log.warning("job %s: its result is not cached: %s", job_id, error)
    ended = store.end(
        job_id, JobStatus.DONE, result=result, result_key=key if cached else None,
        delivery=taken.delivery,
    )  # fmt: skip
    if not _ended(ended, job_id):
        if created:
            with contextlib.suppress(redis.RedisError, CacheUnavailableError):
                results.delete(key)
        return
    sentences.flush()


@shared_task(name=SHORT_TASK, bind=True, acks_late=False)
def translate_texts_task(
    self: Task, reply_to: str, texts: list[str], html: bool, summary: bool,
    glossary: str | None = None,
) -> None:  # fmt: skip
    """Short texts for a waiting request (LibreTranslate, DeepL): the answer goes to its
    reply list. At most once: the request waits only so long, then says 503, and the message
    expires with it (`send_texts`), so a lost worker costs no duplicate."""
    settings = settings_of(self.app)
    try:
        done = translate_texts(
            texts, html=html, summary=summary, settings=settings, glossary=glossary
        )
        reply: dict[str, Any] = {
            "texts": done.texts, "summary": done.summary, "checks": done.checks,
        }  # fmt: skip
    except VertaalError as error:
        reply = {"error": {"code": error.code, "message": str(error)}}
    except Exception:  # a bug: the waiting request hears of it now, not after its wait
        log.exception("short texts for %s failed", reply_to)
        reply = {
            "error": {"code": "internal_error", "message": "the texts could not be translated"}
        }
    replies.send(redis_client(settings.redis_url), reply_to, reply)
