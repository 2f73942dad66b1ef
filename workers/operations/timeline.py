"""Where a worker's time goes, batch by batch.

Every batch a worker process runs (one article, several taken together, or a document) adds
one entry to the `vertaal:timeline` stream of the queue's Redis (the last TIMELINE_MAX kept):
its articles, the process's peak memory so far (`peak_mb`) and the seconds it spent in each
stage, so that a sustained run's wall time is
explained to the second (`make bench` prints it; `XRANGE vertaal:timeline - +` shows it):

- idle: from the end of this process's previous batch to the start of this one (the broker
  handing over the next message, or an empty queue);
- claim: starting the job, waiting up to VERTAAL_BATCH_WAIT for company, reading the jobs;
- load: loading the models (the first batch of a process, or after a setting changed);
- read: reading, cleaning, checking and splitting the texts;
- translate: the translation model, sentence checks and glossary terms included;
- summarize: the summary model, all of the batch's summaries together;
- write: caching the results and ending the jobs;
- other: whatever the stages above do not cover (the lease keepers starting and stopping,
  Python between the stages).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis

from workers.engines.memory import MB, peak_bytes
from workers.jobs.layout import TIMELINE, TIMELINE_MAX

log = logging.getLogger(__name__)

STAGES = ("idle", "claim", "load", "read", "translate", "summarize", "write", "other")

# When this process's previous batch ended (monotonic), for the next one's idle time.
_last_end: float | None = None


@dataclass
class Timeline:
    """One batch's seconds per stage, from `started` (monotonic) until `close`."""

    started: float = field(default_factory=time.monotonic)
    articles: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] += seconds

    @contextmanager
    def stage(self, stage: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.add(stage, time.monotonic() - start)

    def close(self) -> dict[str, float]:
        """The stages with idle (since this process's last batch) and other (the rest of the
        wall time) filled in; marks the end of this batch for the next one's idle time."""
        global _last_end
        ended = time.monotonic()
        named = sum(v for k, v in self.seconds.items() if k not in ("idle", "other"))
        self.seconds["other"] = max(0.0, ended - self.started - named)
        if _last_end is not None:
            self.seconds["idle"] = max(0.0, self.started - _last_end)
        _last_end = ended
        return {stage: round(seconds, 4) for stage, seconds in self.seconds.items()}

    def record(self, client: redis.Redis, worker: str) -> None:
        """Closes the timeline and appends it to the stream; a Redis error costs only the
        entry (the jobs have ended by now)."""
        entry = {
            "worker": worker, "articles": self.articles, "at": time.time(),
            "peak_mb": round(peak_bytes() / MB), **self.close(),
        }  # fmt: skip
        try:
            client.xadd(
                TIMELINE, {"batch": json.dumps(entry)}, maxlen=TIMELINE_MAX, approximate=True
            )
        except redis.RedisError as error:
            log.debug("the batch's timeline was not recorded: %s", error)


def read_timeline(client: redis.Redis, since: float = 0.0) -> list[dict[str, float | str]]:
    """The recorded batches that ended after `since` (epoch seconds), oldest first."""
    batches = [json.loads(fields[b"batch"]) for _, fields in client.xrange(TIMELINE)]
    return [batch for batch in batches if batch["at"] >= since]
