"""A deliberately slow backend, for time-limit tests: every batch takes TEST_BATCH_SECONDS.

Run as `python -m tests.slow_backend worker ...`: the `vertaal` command with this backend
registered as `slow` (VERTAAL_ENGINE=slow). With TEST_IGNORE_SOFT_LIMIT=1 a batch also ignores
the soft time limit's signal, as a stuck native call would, so only the hard limit stops it.
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

    def generate(self, texts: Sequence[str], **settings: int) -> list[str]:
        if self.stubborn:  # billiard's soft time limit is SIGUSR1, to any of the threads
            signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        time.sleep(self.seconds)
        return ["Slow words." for _ in texts]


def build(files: Any, role: str, chosen: Any, converted_root: Path) -> SlowGenerator:
    return SlowGenerator()


if __name__ == "__main__":
    registry.BACKENDS["slow"] = __name__
    from cli.main import main

    main()
