"""The Celery app, configured from Settings, with the reliability settings chosen on purpose.

The web process builds the same app to send tasks by name; only workers import the tasks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from celery import Celery

from workers.connections import SentinelURL, sentinel_options, sentinel_url
from workers.errors import ConfigurationError
from workers.settings import Settings

TASK_NAME = "vertaal.translate_article"
QUEUE = "vertaal"
WEBHOOK_QUEUE = "vertaal-webhooks"
# Short texts (LibreTranslate, DeepL) someone is waiting for: never behind an article.
SHORT_TASK = "vertaal.translate_texts"
SHORT_QUEUE = "vertaal-short"


def check_time_limits(settings: Settings) -> None:
    """Refuse limits that would let Redis hand a running job to a second worker."""
    if not settings.soft_time_limit < settings.hard_time_limit < settings.visibility_timeout:
        raise ConfigurationError(
            "unsafe time limits: need VERTAAL_SOFT_TIME_LIMIT < VERTAAL_HARD_TIME_LIMIT < "
            f"VERTAAL_VISIBILITY_TIMEOUT, got {settings.soft_time_limit} / "
            f"{settings.hard_time_limit} / {settings.visibility_timeout} seconds. Redis "
            "redelivers a job that is still unacknowledged after the visibility timeout, so a "
            "job allowed to run longer would run twice at once."
        )


def broker(url: str) -> tuple[str, dict[str, Any]]:
    """Celery's broker URL and the transport options that go with it. A Sentinel URL becomes
    kombu's form: one `sentinel://` URL per sentinel, joined by `;`, and the master's name
    as a transport option (the same master every redis-py client in Vertaal uses)."""
    found = sentinel_url(url)
    if found is None:
        return url, {}
    return _kombu_sentinels(found), {
        "master_name": found.master,
        "sentinel_kwargs": sentinel_options(found),
    }


def _kombu_sentinels(found: SentinelURL) -> str:
    user, password = quote(found.username or "", safe=""), quote(found.password or "", safe="")
    login = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    hosts = [(f"[{host}]" if ":" in host else host, port) for host, port in found.sentinels]
    return ";".join(f"sentinel://{login}{host}:{port}/{found.db}" for host, port in hosts)


def create_celery(settings: Settings) -> Celery:
    check_time_limits(settings)
    broker_url, sentinel_transport = broker(settings.redis_url)
    app = Celery(
        "vertaal", broker=broker_url, include=["workers.tasks", "workers.operations.webhooks"]
    )
    app.conf.update(
        # JSON only: a pickled message could run code in the worker.
        task_serializer="json",
        accept_content=["json"],
        # Job state lives in Vertaal's own job records; Celery's results would only duplicate
        # it (and report PENDING for ids they never saw).
        task_ignore_result=True,
        # Acknowledge only after the job ran, so a job survives a worker that dies mid-article
        # (delivery becomes at-least-once: the task is idempotent per job record)...
        task_acks_late=True,
        # ...including a child killed by SIGKILL or the OOM killer, which Celery would
        # otherwise acknowledge. The task counts attempts, so a job that keeps killing its
        # worker fails after three tries instead of looping.
        task_reject_on_worker_lost=True,
        # One job reserved per process: long jobs must not wait behind each other.
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.soft_time_limit,
        task_time_limit=settings.hard_time_limit,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout,
            "socket_connect_timeout": 2,
            "socket_timeout": 10,
            **sentinel_transport,
        },
        # Fail a publish fast (the API then answers 503) instead of retrying for seconds.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        broker_connection_retry_on_startup=True,
        # A job still running when the broker connection drops goes on: a Redis blip must
        # not cost it an attempt. Its message, redelivered by the broker, finds the job busy
        # under a live lease and is skipped; only the job's current delivery can end it.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_default_queue=QUEUE,
        # Callbacks travel on a queue of their own, never behind translations.
        task_routes={
            "vertaal.deliver_callback": {"queue": WEBHOOK_QUEUE},
            SHORT_TASK: {"queue": SHORT_QUEUE},
        },
        # Task events, so Celery Flower (started against the same broker) sees every job.
        worker_send_task_events=True,
        task_send_sent_event=True,
        worker_hijack_root_logger=False,
    )
    app.conf.vertaal_settings = settings
    return app


def settings_of(app: Celery) -> Settings:
    settings = app.conf.vertaal_settings
    assert isinstance(settings, Settings)
    return settings


def send_job(app: Celery, job_id: str, delivery: str, queue: str = QUEUE) -> None:
    """Queue one delivery of a job. The message's task id is the delivery id, so the sweeper
    can tell whether a queued job's message is still in the broker."""
    app.send_task(TASK_NAME, args=[job_id, delivery], task_id=delivery, queue=queue)


def send_texts(
    app: Celery, reply_to: str, texts: list[str], *, html: bool, summary: bool, wait: float,
    glossary: str | None = None,
) -> None:  # fmt: skip
    """Queue short texts for a waiting request (with the digest of a glossary version to
    enforce); the message expires when the wait does, so a worker never translates what
    nobody waits for any more."""
    app.send_task(
        SHORT_TASK, args=[reply_to, texts, html, summary, glossary], queue=SHORT_QUEUE,
        expires=wait,
    )  # fmt: skip
