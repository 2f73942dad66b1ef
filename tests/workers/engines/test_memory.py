"""A worker's memory budget sizes its summary batches, and each batch's real peak teaches it
what a token costs."""

import logging
from dataclasses import replace

import pytest

__all__ = ["ct2_settings"]  # the fixture, shared

from tests.workers.pipeline.test_batching import DOCUMENTS, CountingSummarizer, ct2_settings
from workers.engines.factory import load_engines
from workers.engines.memory import (
    DEFAULT_BYTES_PER_TOKEN_BEAM,
    MB,
    MemoryBudget,
    peak_bytes,
    resident_bytes,
)
from workers.engines.protocols import Engines
from workers.pipeline.article import Result
from workers.pipeline.run import RunOptions, draft_article, finish_articles
from workers.settings import Settings


def test_the_room_left_in_the_budget_decides_the_tokens_of_a_batch() -> None:
    held = resident_bytes()
    roomy = MemoryBudget((held + 400 * MB) // MB)
    tokens = roomy.batch_tokens(beams=4, smallest=1024)
    assert tokens > 380 * MB / (4 * DEFAULT_BYTES_PER_TOKEN_BEAM)
    assert tokens <= 400 * MB / (4 * DEFAULT_BYTES_PER_TOKEN_BEAM)
    assert roomy.batch_tokens(beams=1, smallest=1024) > 3.5 * tokens, "fewer beams, more room"


def test_a_budget_with_no_room_allows_one_full_text_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tight = MemoryBudget(resident_bytes() // MB - 16)  # less than this process holds
    with caplog.at_level(logging.WARNING):
        assert tight.batch_tokens(beams=4, smallest=1024) == 1024
        assert tight.batch_tokens(beams=4, smallest=1024) == 1024
    assert sum("leaves no room" in r.message for r in caplog.records) == 1


def test_a_batch_that_costs_more_than_the_estimate_raises_it_for_good() -> None:
    budget = MemoryBudget(8192)
    kept: list[bytes] = []
    # 1,000 tokens x 2 beams that take 160 MB: 80 KB per token and beam, thrice the estimate
    budget.measured(1000, 2, lambda: kept.append(b"\x01" * (160 * MB)))
    assert 70_000 < budget.per_token_beam < 100_000
    assert peak_bytes() >= resident_bytes() - 1 * MB
    learnt = budget.per_token_beam
    budget.measured(1000, 2, lambda: None)  # a cheap batch does not lower it
    budget.measured(10, 2, lambda: kept.append(b"\x01" * (160 * MB)))  # too small to learn from
    assert budget.per_token_beam == learnt
    before = peak_bytes()
    del kept[:]
    budget.measured(1000, 2, lambda: None)  # VmHWM starts again, lower
    # (the kernel's counters of resident pages lag by a few dozen pages per thread)
    assert peak_bytes() >= before - 1 * MB, "the process's peak survives the resets"
    assert resident_bytes("VmHWM") < before - 100 * MB, "while VmHWM alone forgot it"


def test_summary_batches_follow_the_budget_and_change_no_summary(ct2_settings: Settings) -> None:
    engines = load_engines(ct2_settings)
    options = RunOptions(check_language=False)
    batches: dict[int, list[int]] = {}
    tokens: dict[int, list[int]] = {}
    results: dict[int, list[Result | Exception]] = {}
    for megabytes in (1_000_000, 1):
        counting = CountingSummarizer(engines.summarizer)
        budgeted = Engines(engines.translator, counting, memory=MemoryBudget(megabytes))  # type: ignore[arg-type]
        drafts = [draft_article(d, budgeted, options) for d in DOCUMENTS]
        results[megabytes] = finish_articles(drafts, budgeted)
        batches[megabytes] = [len(b) for b in counting.batches]
        tokens[megabytes] = [sum(counting.count_tokens(b)) for b in counting.batches]
    assert max(batches[1_000_000]) > 1
    # no room: a batch holds no more than one text of the model's longest input would
    assert max(tokens[1]) <= engines.summarizer.max_input_tokens < max(tokens[1_000_000])
    assert sum(batches[1]) == sum(batches[1_000_000])
    plain = [replace(r, timings={}) for r in results[1] if isinstance(r, Result)]
    assert plain == [replace(r, timings={}) for r in results[1_000_000] if isinstance(r, Result)]
    assert len(plain) == len(DOCUMENTS)
