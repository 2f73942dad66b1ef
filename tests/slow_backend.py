"""A deliberately slow backend, for time-limit and chaos tests: every batch takes
TEST_BATCH_SECONDS.

Run as `python -m tests.slow_backend worker ...`: the `vertaal` command with this backend
registered as `slow` (VERTAAL_ENGINE=slow). Faults a test can ask for:
- TEST_IGNORE_SOFT_LIMIT=1: a batch ignores the soft time limit's signal, as a stuck native
  call would, so only the hard limit stops it;
- TEST_FAIL_LOAD=1: the model does not load (what a batch does when its engines fail);
- TEST_DIE_BEFORE_WEBHOOK=1: the worker (its whole process group) is SIGKILLed the moment its
  job-end consumer is about to queue a webhook: after a job's END, before its callback;
- TEST_CLOCK_OFFSET=<seconds>: this host's clock runs that far off (time.time, in every
  process of the worker), as on a host whose clock drifted.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workers.engines import registry


def available() -> bool:
    return True


def cuda_devices() -> int:
    return 0


class SlowGenerator:
    def __init__(self) -> None:
        self.seconds = float(os.environ.get("TEST_BATCH_SECONDS", "0.5"))
        self.stubborn = os.environ.get("TEST_IGNORE_SOFT_LIMIT") == "1"
        if self.stubborn:  # from the model's load on, before the first batch can start
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)

    def generate(self, texts: Sequence[str], **settings: int) -> list[str]:
        if self.stubborn:  # billiard's soft time limit is SIGUSR1, to any of the threads
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        time.sleep(self.seconds)
        return ["Slow words." for _ in texts]


def build(files: Any, role: str, chosen: Any, converted_root: Path) -> SlowGenerator:
    if os.environ.get("TEST_FAIL_LOAD") == "1":
        from workers.errors import ModelUnavailableError

        raise ModelUnavailableError(f"the {role} model would not load (TEST_FAIL_LOAD)")
    return SlowGenerator()


def _ignore_soft_limit(**_: Any) -> None:
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)


def _faults() -> None:
    if os.environ.get("TEST_IGNORE_SOFT_LIMIT") == "1":
        # from the task's first instant: on a loaded machine the soft limit can fire while the
        # article is still being read or the model loaded, before SlowGenerator exists
        from celery.signals import task_prerun

        task_prerun.connect(_ignore_soft_limit, weak=False)
    offset = float(os.environ.get("TEST_CLOCK_OFFSET", "0"))
    if offset:
        real = time.time
        time.time = lambda: real() + offset
    if os.environ.get("TEST_DIE_BEFORE_WEBHOOK") == "1":
        from workers.operations import ends

        def die(self: Any, client: Any, end: Any) -> None:
            if end.callback:
                os.killpg(os.getpgrp(), signal.SIGKILL)

        ends.Webhook.__call__ = die  # type: ignore[method-assign]


if __name__ == "__main__":
    registry.BACKENDS["slow"] = __name__
    _faults()
    from cli.main import main

    main()
