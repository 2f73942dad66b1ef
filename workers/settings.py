"""One typed Settings object, read from `VERTAAL_*` environment variables.

Every part of Vertaal (CLI, worker, web app) builds its settings here; nothing reads the
environment at import time. Tests and CLI options pass overrides as keyword arguments, which
win over the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.connections import SENTINEL_FORM, check_redis_url
from workers.engines.registry import BACKENDS

DEFAULT_TRANSLATION_MODEL = "Helsinki-NLP/opus-mt-nl-en"
DEFAULT_SUMMARY_MODEL = "sshleifer/distilbart-cnn-12-6"


class Settings(BaseSettings):
    """Everything configurable, with the defaults a new user gets."""

    # Empty variables (as in .env.example) mean "use the default".
    model_config = SettingsConfigDict(
        env_prefix="VERTAAL_", frozen=True, extra="forbid", env_ignore_empty=True
    )

    translation_model: str = Field(
        DEFAULT_TRANSLATION_MODEL, description="Translation model: hub id or local directory."
    )
    summary_model: str = Field(
        DEFAULT_SUMMARY_MODEL, description="Summary model: hub id or local directory."
    )
    summary: bool = Field(True, description="Write a summary of each article.")
    check_language: bool = Field(True, description="Refuse articles that are clearly not Dutch.")
    names: bool = Field(
        True,
        description="Enforce the built-in names list (Poetin → Putin, Zelenski → Zelensky, …) "
        "under each glossary; a glossary's own entry wins.",
    )
    # Measured on 2 CPU cores with CTranslate2: batches of 8 length-sorted sentences translate
    # as fast as 16 (tighter lengths waste less decoding) with 150 MB less peak memory.
    batch_size: int = Field(8, ge=1, le=256, description="Sentences per translation batch.")
    batch_articles: int = Field(
        8, ge=1, le=64,
        description="Queued articles a worker takes together, summaries batched; 1: one by one.",
    )  # fmt: skip
    worker_memory_mb: int = Field(
        1536, ge=256, le=1_048_576,
        description="Memory (MB) each worker process may use: its summary batches are sized "
        "to keep its peak under it, from the cost per input token and beam it measures.",
    )  # fmt: skip
    batch_wait: float = Field(
        0.2, ge=0, le=5,
        description="Seconds a worker with fewer articles than batch_articles waits for more.",
    )  # fmt: skip
    num_beams: int | None = Field(
        None, ge=1, le=16, description="Translation beams; unset = the model's own default."
    )
    summary_beams: int | None = Field(
        None, ge=1, le=16, description="Summary beams; unset = the model's own default."
    )
    summary_min_tokens: int | None = Field(
        None, ge=1, description="Shortest summary in tokens; unset = the model's default."
    )
    summary_max_tokens: int | None = Field(
        None, ge=8, description="Longest summary in tokens; unset = the model's default."
    )
    # opus-mt was trained on sentence pairs and degrades (and risks running past its 512
    # positions when the output is longer than the input) well before 512 tokens; longer
    # sentences are split at clause boundaries instead of being truncated.
    max_sentence_tokens: int = Field(
        200, ge=16, le=512, description="Longest sentence sent to the translation model."
    )
    threads: int = Field(
        0, ge=0, description="CPU threads per worker process; 0 = cores / worker processes."
    )
    engine: str = Field(
        "auto", description="Model runtime; auto = CTranslate2 when installed, else transformers."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where models run; auto = a GPU when CTranslate2 sees one."
    )
    compute_type: Literal["auto", "int8", "int8_float32", "float16", "float32"] = Field(
        "auto", description="CTranslate2 precision; auto = int8 on CPU, float16 on a GPU."
    )
    converted_dir: Path | None = Field(
        None, description="Where converted CTranslate2 models are kept."
    )

    # Service: where jobs, the queue and the cache live.
    # Either may name a Sentinel set instead of one server (connections.SENTINEL_FORM).
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Redis for the job queue and job records: redis://, rediss://, unix:// or "
        f"{SENTINEL_FORM}.",
    )
    cache_url: str | None = Field(
        None,
        description="Redis for cached results, in the same forms; unset = the queue's server "
        "(keep them apart in production: the queue never evicts, the cache must).",
    )
    queue_memory: str = Field(
        "256mb", description="`vertaal up` and docker-compose: the queue Redis's maxmemory."
    )
    cache_memory: str = Field(
        "512mb", description="`vertaal up` and docker-compose: the cache Redis's maxmemory."
    )
    queue_high_water: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Refuse new jobs (503 queue_full) once the queue Redis uses this share of "
        "its maxmemory; the rest stays free for the jobs already accepted.",
    )
    cache_ttl: int = Field(30 * 86400, ge=60, description="Seconds a cached result is kept.")
    job_ttl: int = Field(86400, ge=60, description="Seconds a job record is kept.")
    # One limit for an article however it arrives (JSON, form, upload, CLI): its text in
    # characters, the unit the web form counts. A file may hold more bytes than text (HTML
    # markup, a zipped .docx), so the request itself has a byte limit of its own.
    max_article_chars: int = Field(
        1_000_000, ge=1000, description="Longest article accepted, in characters of text."
    )
    max_upload_bytes: int = Field(
        10_000_000, ge=1000, description="Largest request (an uploaded file) accepted, in bytes."
    )

    # Workers. The time limits must stay below the Redis visibility timeout, or a long job is
    # redelivered while it still runs (checked when a worker starts).
    worker_processes: int = Field(1, ge=1, description="Worker processes per `vertaal worker`.")
    soft_time_limit: int = Field(
        1800, ge=1, description="Seconds before a job is stopped as timed out."
    )
    hard_time_limit: int = Field(
        1860, ge=2, description="Seconds before a stuck job's process is killed."
    )
    visibility_timeout: int = Field(
        7200, ge=10, description="Seconds before Redis redelivers an unacknowledged job."
    )
    # A running job holds a lease its worker renews; once it lapses (the worker died) the
    # sweeper queues the job again. Detection takes at most lease + sweep seconds.
    lease_seconds: float = Field(
        60, ge=1, description="Seconds a running job's lease lasts without being renewed."
    )
    sweep_seconds: float = Field(
        10, gt=0, description="Seconds between a worker's checks for lapsed leases."
    )
    heartbeat_seconds: float = Field(
        5, gt=0, description="Seconds between a worker's heartbeats; 3 missed = not ready."
    )
    ends_retention: float = Field(
        86400,
        ge=0,
        description="Seconds a job's end stays in the job-ends stream once every consumer has "
        "read it (for audit and replay); the stream never holds more than 100,000 ends.",
    )

    # Web server.
    host: str = Field("127.0.0.1", description="Address `vertaal serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `vertaal serve` listens on.")
    web_processes: int = Field(2, ge=1, description="gunicorn worker processes.")
    web_threads: int = Field(
        64,
        ge=1,
        description="Threads per gunicorn worker process. Many, because a LibreTranslate or "
        "DeepL client waiting for its text holds one (blocked in Redis, cheap) while it waits.",
    )
    secret_key: str | None = Field(
        None, description="Signs the web form's session; unset = one generated and kept in Redis."
    )
    https: bool = Field(
        False, description="Served over HTTPS: redirect HTTP, send HSTS, secure cookies."
    )

    @field_validator("redis_url", "cache_url")
    @classmethod
    def _a_redis_url(cls, value: str | None) -> str | None:
        return None if value is None else check_redis_url(value)

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value != "auto" and value not in BACKENDS:
            raise ValueError(f"use auto or one of {', '.join(BACKENDS)}, not {value!r}")
        return value

    # The LibreTranslate and DeepL protocols: short texts answered while the client waits.
    short_wait: float = Field(
        30, gt=0, le=300, description="Seconds a short-text request waits for its answer."
    )
    short_max_chars: int = Field(
        20_000, ge=100, description="Characters a short-text request may hold, all texts together."
    )

    # Operating the service: keys, limits, metrics, logs, webhooks.
    require_api_key: bool = Field(
        False, description="Every /api/ call needs `Authorization: Bearer <key>`."
    )
    rate_limit: str = Field(
        "60/minute;2000/day",
        description="Submissions per API key (or per IP without one), Flask-Limiter syntax.",
    )
    read_rate_limit: str = Field(
        "1200/minute", description="Cheap reads (polling a job, usage) per key or IP."
    )
    proxy_count: int = Field(
        0,
        ge=0,
        le=5,
        description="Reverse proxies in front of the web (trust their X-Forwarded-For).",
    )
    metrics_token: str | None = Field(
        None, description="Bearer token /metrics requires; unset = /metrics is open."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="text for a terminal; json = one JSON object per line."
    )
    webhook_secret: str | None = Field(
        None, description="Signs callbacks of jobs sent without an API key."
    )
    webhook_allow: str = Field(
        "",
        description="Comma-separated hosts or networks (127.0.0.1, 10.0.0.0/8) callbacks may "
        "reach although loopback, private or link-local.",
    )
    webhook_retry_window: int = Field(
        3600, ge=1, le=6000, description="Seconds a failing callback is retried for."
    )
    webhook_retry_base: float = Field(
        5.0, gt=0, le=600, description="Seconds before the first retry; each next one doubles."
    )
    webhook_timeout: float = Field(5.0, gt=0, le=60, description="Seconds per callback attempt.")

    @field_validator("rate_limit", "read_rate_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        from workers.operations.keys import valid_rate

        if not valid_rate(value):
            raise ValueError(f"{value!r} is not a rate such as 60/minute;1000/day")
        return value

    def inference_threads(self) -> int:
        """The thread count to give the model runtime in one worker process."""
        return self.threads or max(1, len(os.sched_getaffinity(0)) // self.worker_processes)

    def cache_redis_url(self) -> str:
        return self.cache_url or self.redis_url

    def converted_root(self) -> Path:
        if self.converted_dir is not None:
            return self.converted_dir.expanduser()
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        return cache / "vertaal" / "ctranslate2"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with non-None `overrides` on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
