"""Where a job's life is kept in the queue's Redis, named once.

Python and the Lua scripts (`scripts.py`, which receive these names in a generated prelude)
share this one list; nothing else spells a key, a status or a stage of the lifecycle.
"""

from __future__ import annotations

KEY_PREFIX = "vertaal:job:"  # + job id: the record (a hash); + ":input", ":file", ":deliveries"
DEDUPE_PREFIX = "vertaal:inflight:"  # + dedupe key: the active job for one submission
LEASES = "vertaal:leases"  # job id -> server ms when its lease (or message check) is due
RUNNING = "vertaal:running"  # ids of the jobs a worker is running now
JOB_ENDS = "vertaal:job-ends"  # the stream every end is appended to (see operations/ends.py)
SWEEP_LOCK = "vertaal:sweep-lock"  # held by the one sweeper doing this round
TIMELINE = "vertaal:timeline"  # a stream: where each batch's seconds went (operations/timeline.py)

# A job whose article kills its worker this many times fails instead of looping.
MAX_ATTEMPTS = 3

# The progress stages the lifecycle itself writes (the pipeline adds its own between).
STAGE_QUEUED = "queued"
STAGE_REQUEUED = "requeued"
STAGE_STARTING = "starting"
STAGE_DONE = "done"

# Ends kept at most, whatever the consumers have read: a stream that no consumer reads for
# days must not fill the queue's memory (see `operations/ends.py` for the normal trimming).
JOB_ENDS_MAX = 100_000
# Batch timelines kept (about a day of a busy worker's batches take a few MB).
TIMELINE_MAX = 2_000


def job_key(job_id: str) -> str:
    return KEY_PREFIX + job_id
