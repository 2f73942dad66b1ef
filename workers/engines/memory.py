"""A worker process's memory budget (VERTAAL_WORKER_MEMORY_MB), spent on summary batches.

A summary batch's peak memory grows with its texts' input tokens times the beams: the
decoder's cross-attention keeps the encoded input for every hypothesis. The models themselves
take what they take; what is left of the budget decides how many input tokens a batch may
hold. Every batch this process runs is measured (its peak resident memory over what the
process held before it), and the largest cost per input token and beam seen so far is used
from then on, so a model that needs more than the default estimate is soon budgeted for what
it really needs. Translation batches (VERTAAL_BATCH_SIZE sentences of at most
VERTAAL_MAX_SENTENCE_TOKENS tokens) stay small and are not budgeted.
"""

from __future__ import annotations

import logging
import resource
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

MB = 1024 * 1024

# Peak memory a summary batch adds per input token and beam, before any batch of this
# process is measured: distilbart-cnn-12-6 on CTranslate2 int8, 2 threads, 4 beams, batches
# of 1, 2, 4 and 8 texts of 800 tokens (`python -m bench.summary_batches`, 2026-12-05): 21.6,
# 25.0, 20.6 and 23.9 KB; rounded up from the highest.
DEFAULT_BYTES_PER_TOKEN_BEAM = 26_000

# Batches smaller than this (input tokens x beams) say too little about the cost per token
# to be learnt from: fixed costs dominate them.
MEASURED_FROM = 2_000

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")

T = TypeVar("T")


def resident_bytes(field: str = "VmRSS") -> int:
    """This process's resident memory now (VmRSS) or at its peak since the last reset
    (VmHWM), in bytes."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


# The highest VmHWM seen before any reset: with it, `peak_bytes` stays the process's peak.
_folded_peak = 0


def reset_peak() -> bool:
    """Start VmHWM afresh at the current resident memory (Linux 4.0+); False if it cannot.
    The peak so far is kept for `peak_bytes`."""
    global _folded_peak
    _folded_peak = max(_folded_peak, resident_bytes("VmHWM"))
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """This process's peak resident memory since it started, across the resets of VmHWM
    that measuring batches makes."""
    return max(_folded_peak, resident_bytes("VmHWM"))


class MemoryBudget:
    """How many input tokens a summary batch may hold so that this process's peak resident
    memory stays within `megabytes`, and what it learns from each batch it measures."""

    def __init__(self, megabytes: int) -> None:
        self.limit = megabytes * MB
        self.per_token_beam = float(DEFAULT_BYTES_PER_TOKEN_BEAM)
        self._warned = False

    def batch_tokens(self, beams: int, smallest: int) -> int:
        """Input tokens a batch may hold now; at least `smallest` (one text must always be
        summarized, whatever the budget)."""
        room = self.limit - resident_bytes()
        allowed = int(room / (self.per_token_beam * max(1, beams)))
        if allowed < smallest and not self._warned:
            log.warning(
                "VERTAAL_WORKER_MEMORY_MB=%d leaves no room for summary batches (this process "
                "holds %.0f MB already); a batch holds no more than one full-length text",
                self.limit // MB, resident_bytes() / MB,
            )  # fmt: skip
            self._warned = True
        return max(smallest, allowed)

    def measured(self, tokens: int, beams: int, run: Callable[[], T]) -> T:
        """`run()` (one batch of `tokens` input tokens), its peak memory measured."""
        with self._measuring(tokens * max(1, beams)):
            return run()

    @contextmanager
    def _measuring(self, units: int) -> Iterator[None]:
        before = resident_bytes()
        reset = reset_peak()
        yield
        if not reset:
            return
        peak = resident_bytes("VmHWM")
        if units >= MEASURED_FROM and peak > before:
            cost = (peak - before) / units
            if cost > self.per_token_beam:
                log.info(
                    "a summary batch needed %.0f KB per input token and beam; budgeting for that",
                    cost / 1024,
                )
                self.per_token_beam = cost
