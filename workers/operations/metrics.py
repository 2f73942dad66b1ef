"""Service metrics kept in Redis, so that what the worker processes count reaches `/metrics`.

Workers and web processes count into Redis hashes (one pipelined round trip each: a job takes
seconds); `/metrics` reads them at scrape time through `RedisMetrics`, a Prometheus
collector, together with what is best read live: the queue depth, live and busy workers.
Why Redis rather than an exporter per worker, or Celery's event stream: it needs no extra
process or port per scaled worker (one scrape target), counters survive worker restarts, and
every process already talks to this Redis. Counting never fails a job: a Redis error only
loses the count.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import redis
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from workers.celery_app import QUEUE, SHORT_QUEUE
from workers.jobs.layout import RUNNING
from workers.operations import heartbeats

log = logging.getLogger(__name__)

PREFIX = "vertaal:metrics:"
COUNTERS = PREFIX + "counters"
HISTOGRAM = PREFIX + "histogram:"

# name -> (help, label names)
COUNTER_HELP: dict[str, tuple[str, tuple[str, ...]]] = {
    "vertaal_jobs_submitted": ("Jobs submitted, by outcome.", ("outcome",)),
    "vertaal_jobs_finished": ("Jobs ended, by final status.", ("status",)),
    "vertaal_cache_lookups": (
        "Cache lookups, by level (article, sentence) and result (hit, miss).",
        ("level", "result"),
    ),
    "vertaal_sentence_flags": (
        "Flags the per-sentence checks raised, by code; once per job a worker ran (a result "
        "answered from the cache is not counted again).",
        ("code",),
    ),
    "vertaal_webhook_deliveries": ("Callback attempts, by outcome.", ("outcome",)),
    "vertaal_short_requests": (
        "Short-text requests (LibreTranslate, DeepL), by outcome.",
        ("outcome",),
    ),
}
# name -> (help, label names, bucket bounds)
HISTOGRAMS: dict[str, tuple[str, tuple[str, ...], tuple[float, ...]]] = {
    "vertaal_job_duration_seconds": (
        "Seconds a worker spent on a job, from its start to its end.",
        (),
        (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
    ),
    "vertaal_sentences_per_second": (
        "Sentences translated per second of translating, per job.",
        (),
        (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500),
    ),
    "vertaal_model_load_seconds": (
        "Seconds to load (and, the first time, convert) a model in a worker process.",
        ("role", "backend"),
        (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    ),
}
QUEUES = (QUEUE, SHORT_QUEUE)


def _labelled(name: str, labels: Mapping[str, str]) -> str:
    return name + "|" + ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _bound(value: float) -> str:
    return repr(float(value))


class MetricsRecorder:
    """Counts into Redis, or into a transaction's pipeline (`operations/ends.py` applies an
    end's counts once); never raises (a lost count is better than a lost job)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def count(self, name: str, amount: int = 1, **labels: str) -> None:
        assert name in COUNTER_HELP, name
        try:
            self.redis.hincrby(COUNTERS, _labelled(name, labels), amount)
        except redis.RedisError as error:
            log.warning("metric %s not counted: %s", name, error)

    def observe(self, name: str, value: float, **labels: str) -> None:
        _, _, bounds = HISTOGRAMS[name]
        bucket = next((_bound(b) for b in bounds if value <= b), "+Inf")
        key = HISTOGRAM + _labelled(name, labels)

        def write(pipe: Any) -> None:
            pipe.hincrby(key, bucket, 1)
            pipe.hincrbyfloat(key, "sum", value)
            pipe.sadd(PREFIX + "histograms", key)

        if isinstance(self.redis, redis.client.Pipeline):
            write(self.redis)
            return
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                write(pipe)
                pipe.execute()
        except redis.RedisError as error:
            log.warning("metric %s not observed: %s", name, error)


class RedisMetrics(Collector):
    """The collector `/metrics` exposes: the counts in Redis, and live figures."""

    def __init__(self, client: redis.Redis, heartbeat_seconds: float) -> None:
        self.redis = client
        self.heartbeat_seconds = heartbeat_seconds

    def describe(self) -> list[Metric]:
        return []  # registering must not touch Redis

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("vertaal_redis_up", "1 when the queue's Redis answered.")
        try:
            counters, histograms, depths, workers, busy = self._read()
        except redis.RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from self._counters(counters)
        yield from self._histograms(histograms)
        depth = GaugeMetricFamily(
            "vertaal_queue_depth", "Jobs waiting in the queue.", labels=["queue"]
        )
        for queue, length in zip(QUEUES, depths, strict=True):
            depth.add_metric([queue], length)
        yield depth
        yield GaugeMetricFamily("vertaal_workers", "Workers with a fresh heartbeat.", value=workers)
        yield GaugeMetricFamily("vertaal_workers_busy", "Jobs being run now.", value=busy)

    def _read(self) -> tuple[dict[str, int], dict[str, dict[str, float]], list[int], int, int]:
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(COUNTERS)
            pipe.smembers(PREFIX + "histograms")
            for queue in QUEUES:
                pipe.llen(queue)
            pipe.scard(RUNNING)
            counters, keys, *depths, busy = pipe.execute()
        names = sorted(k.decode() for k in keys)
        with self.redis.pipeline(transaction=False) as pipe:
            for key in names:
                pipe.hgetall(key)
            values = pipe.execute()
        workers = heartbeats.live_workers(self.redis, self.heartbeat_seconds)
        histograms = {
            key.removeprefix(HISTOGRAM): {k.decode(): float(v) for k, v in raw.items()}
            for key, raw in zip(names, values, strict=True)
        }
        return (
            {k.decode(): int(v) for k, v in counters.items()},
            histograms,
            [int(d) for d in depths],
            workers,
            int(busy),
        )

    @staticmethod
    def _counters(counters: dict[str, int]) -> Iterator[Metric]:
        for name, (help_text, label_names) in COUNTER_HELP.items():
            family = CounterMetricFamily(name, help_text, labels=list(label_names))
            for field, value in sorted(counters.items()):
                values = _label_values(field, name, label_names)
                if values is not None:
                    family.add_metric(values, value)
            yield family

    @staticmethod
    def _histograms(histograms: dict[str, dict[str, float]]) -> Iterator[Metric]:
        for name, (help_text, label_names, bounds) in HISTOGRAMS.items():
            family = HistogramMetricFamily(name, help_text, labels=list(label_names))
            for field, raw in sorted(histograms.items()):
                values = _label_values(field, name, label_names)
                if values is None:
                    continue
                total, buckets = 0.0, []
                for bound in [*map(_bound, bounds), "+Inf"]:
                    total += raw.get(bound, 0.0)
                    buckets.append((bound, total))
                family.add_metric(values, buckets, sum_value=raw.get("sum", 0.0))
            yield family


def _label_values(field: str, name: str, label_names: tuple[str, ...]) -> list[str] | None:
    """The label values of a stored `name|a=1,b=2` field, if it is one of `name`'s."""
    stored, _, labels = field.partition("|")
    if stored != name:
        return None
    found = dict(pair.split("=", 1) for pair in labels.split(",") if pair)
    return [found.get(label, "") for label in label_names]
