"""Scaling in: a worker told to stop (SIGTERM, as Kubernetes and KEDA stop a pod) mid-job
stops taking work, and every job still ends exactly once.

The stopping worker hands the jobs it runs back to the queue at once (their attempts not
counted), the other worker takes them, each ends `done` once, and the stopped worker exits
well within a pod's grace period.
"""

import signal
import time
from pathlib import Path

import pytest

from tests.conftest import TinyModels
from tests.processes import wait_for
from tests.workers.jobs.test_chaos import Stack

pytestmark = pytest.mark.slow

GRACE_SECONDS = 30  # the job left is 12 sentences of 0.25 s; the pod's grace is far longer


def test_a_worker_stopped_mid_job_exits_and_every_job_ends_once(
    tmp_path: Path, tiny_models: TinyModels
) -> None:
    stack = Stack(tmp_path, tiny_models)
    try:
        stack.worker()
        stack.worker()
        jobs = [stack.submit(12, seed=140 + i) for i in range(3)]
        pid = stack.running_on(jobs[0])
        (stopping,) = [w for w in stack.workers if _runs(w.process.pid, pid)]
        stopping.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        wait_for(lambda: stopping.process.poll() is not None, GRACE_SECONDS, "the worker to exit")
        assert stopping.process.returncode == 0, "a warm shutdown, not a crash"
        assert time.monotonic() - started < GRACE_SECONDS
        stack.all_done_once(jobs, timeout=60)
    finally:
        stack.close()


def _runs(worker_pid: int, pid: int) -> bool:
    """Whether `pid` is the worker's main process or one of its children."""
    if pid == worker_pid:
        return True
    status = Path(f"/proc/{pid}/status").read_text()
    return f"PPid:\t{worker_pid}\n" in status
