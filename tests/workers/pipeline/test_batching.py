"""Several articles at once: their summaries share the model's batches, and each article's
result is exactly what it gets alone, on both engines. A cancel or a failure of one article
leaves the others whole."""

from collections.abc import Sequence
from dataclasses import replace

import pytest

from tests.conftest import ARTICLES, TinyModels, settings_for
from workers.engines.factory import load_engines
from workers.engines.protocols import Engines
from workers.errors import CancelledError
from workers.pipeline.article import Result
from workers.pipeline.reading import read_path
from workers.pipeline.run import RunOptions, draft_article, finish_articles, translate_article
from workers.pipeline.summarizing import pack_chunks
from workers.settings import Settings

# The three shortest sample articles: the transformers engine on random weights is slow.
DOCUMENTS = [read_path(p) for p in sorted(ARTICLES.glob("*.txt"), key=lambda p: p.stat().st_size)][
    :3
]


@pytest.fixture
def ct2_settings(tiny_models: TinyModels) -> Settings:
    return settings_for(tiny_models, engine="ctranslate2")


def without_timings(result: Result | Exception) -> Result:
    assert isinstance(result, Result), result
    return replace(result, timings={})


class CountingSummarizer:
    """The real summarizer, with every batch it is given recorded."""

    def __init__(self, inner: object, fail_on: str | None = None) -> None:
        self.inner, self.fail_on, self.batches = inner, fail_on, []  # type: ignore[var-annotated]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def summarize_batch(self, texts: Sequence[str]) -> list[str]:
        self.batches.append(list(texts))
        if self.fail_on and self.fail_on in texts:
            raise RuntimeError("the model choked")
        return self.inner.summarize_batch(texts)  # type: ignore[attr-defined, no-any-return]


def test_articles_together_get_the_results_they_get_alone(tiny_settings: Settings) -> None:
    engines = load_engines(tiny_settings)
    options = RunOptions(check_language=False)
    alone = [translate_article(d, engines, options) for d in DOCUMENTS]
    counting = CountingSummarizer(engines.summarizer)
    shared = Engines(engines.translator, counting)  # type: ignore[arg-type]
    together = finish_articles([draft_article(d, shared, options) for d in DOCUMENTS], shared)
    assert [without_timings(r) for r in together] == [without_timings(r) for r in alone]
    alone_calls = CountingSummarizer(engines.summarizer)
    lone = Engines(engines.translator, alone_calls)  # type: ignore[arg-type]
    for document in DOCUMENTS:
        translate_article(document, lone, options)
    assert len(counting.batches) < len(alone_calls.batches), "fewer, fuller model calls"
    assert len(counting.batches[0]) > 1


def test_a_cancel_or_a_failure_of_one_article_leaves_the_others_whole(
    ct2_settings: Settings,
) -> None:
    engines = load_engines(ct2_settings)
    options = RunOptions(check_language=False)
    alone = [translate_article(d, engines, options) for d in DOCUMENTS]

    def cancelled(done: int, total: int, stage: str) -> None:
        if stage == "summarize":
            raise CancelledError("job x is cancelled")

    drafts = [draft_article(d, engines, options) for d in DOCUMENTS]
    drafts[1].on_progress = cancelled
    finished = finish_articles(drafts, engines)
    assert isinstance(finished[1], CancelledError)
    assert [without_timings(finished[i]) for i in (0, 2)] == [
        without_timings(alone[i]) for i in (0, 2)
    ]

    # The model fails on a text of the second article's: only that article fails.
    chunks = [pack_chunks(d.english, engines.summarizer) for d in drafts]  # type: ignore[arg-type]
    marker = next(c for c in chunks[1] if c not in chunks[0] + chunks[2])
    failing = Engines(engines.translator, CountingSummarizer(engines.summarizer, marker))  # type: ignore[arg-type]
    drafts = [draft_article(d, failing, options) for d in DOCUMENTS]
    finished = finish_articles(drafts, failing)
    assert isinstance(finished[1], RuntimeError)
    assert [without_timings(finished[i]) for i in (0, 2)] == [
        without_timings(alone[i]) for i in (0, 2)
    ]


def test_no_summary_means_no_summarizer_call(ct2_settings: Settings) -> None:
    engines = load_engines(ct2_settings)
    counting = CountingSummarizer(engines.summarizer)
    shared = Engines(engines.translator, counting)  # type: ignore[arg-type]
    options = RunOptions(summary=False, check_language=False)
    finished = finish_articles([draft_article(d, shared, options) for d in DOCUMENTS], shared)
    assert counting.batches == []
    assert all(isinstance(r, Result) and r.summary is None for r in finished)
    assert all("summarize" not in r.timings for r in finished if isinstance(r, Result))


def test_the_same_article_twice_in_a_batch_gets_its_own_result_twice(
    ct2_settings: Settings,
) -> None:
    engines = load_engines(ct2_settings)
    options = RunOptions(check_language=False)
    drafts = [draft_article(DOCUMENTS[0], engines, options) for _ in range(2)]
    finished = finish_articles(drafts, engines)
    expected = without_timings(translate_article(DOCUMENTS[0], engines, options))
    assert all(without_timings(r) == expected for r in finished)
