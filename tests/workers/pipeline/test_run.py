import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTICLES, TinyModels
from workers.engines.factory import load_engines
from workers.engines.protocols import Engines, Summarizer, Translator
from workers.errors import ArticleTooLargeError, CancelledError, EmptyArticleError, NotDutchError
from workers.pipeline.article import RawDocument, Result
from workers.pipeline.reading import read_path
from workers.pipeline.run import RunOptions, translate_article
from workers.pipeline.summarizing import pack_chunks
from workers.settings import Settings


class Recording:
    """Wraps a real engine and records every batch it is given."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.batches: list[list[str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def translate_batch(self, texts: Sequence[str]) -> list[str]:
        self.batches.append(list(texts))
        return self.engine.translate_batch(texts)

    def summarize_batch(self, texts: Sequence[str]) -> list[str]:
        self.batches.append(list(texts))
        return self.engine.summarize_batch(texts)

    @property
    def inputs(self) -> list[str]:
        return [text for batch in self.batches for text in batch]


class DictCache:
    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def get_many(self, sentences: Sequence[str]) -> dict[str, str]:
        return {s: self.entries[s] for s in sentences if s in self.entries}

    def set_many(self, translations: Mapping[str, str]) -> None:
        self.entries.update(translations)


@pytest.fixture
def engines(tiny_settings: Settings) -> tuple[Recording, Recording]:
    real = load_engines(tiny_settings)
    return Recording(real.translator), Recording(real.summarizer)


def run(document: RawDocument, engines: tuple[Recording, Recording], **options: Any) -> Result:
    translator, summarizer = engines
    pair = Engines(translator=_as(translator), summarizer=_as(summarizer))
    cache = options.pop("cache", None)
    on_progress = options.pop("on_progress", None)
    return translate_article(
        document, pair, RunOptions(**options), cache=cache, on_progress=on_progress
    )


def _as(engine: Recording) -> Any:
    return engine  # duck-typed stand-in for Translator / Summarizer


def shape(paragraphs: list[list[str]]) -> list[int]:
    return [len(p) for p in paragraphs]


def test_samples_translate_sentence_for_sentence(
    sample_article: Path, engines: tuple[Recording, Recording]
) -> None:
    result = run(read_path(sample_article), engines)
    assert shape(result.translation.paragraphs) == shape(result.source.paragraphs)
    assert all(s.strip() for p in result.translation.paragraphs for s in p)
    assert (result.translation.title is None) == (result.source.title is None)
    assert isinstance(result.summary, str) and result.summary
    assert set(result.timings) == {"clean", "split", "translate", "summarize", "total"}
    data = result.to_dict()
    assert set(data) == {
        "source",
        "translation",
        "summary",
        "removed",
        "models",
        "timings",
        "markup",
        "checks",
    }
    assert set(data["source"]) == {"title", "date", "paragraphs"}
    assert Result.from_dict(data) == result


def test_no_model_input_exceeds_the_limit(engines: tuple[Recording, Recording]) -> None:
    translator, summarizer = engines
    run_on = " ".join(["De NAVO, Rusland en de VS praten opnieuw in Brussel"] * 60) + "."
    result = run(RawDocument(f"Een korte zin.\n\n{run_on}"), engines, max_sentence_tokens=48)
    assert max(translator.count_tokens(translator.inputs)) <= 48
    assert len(result.source.paragraphs[1]) > 1, "the run-on sentence was split, not truncated"
    assert max(summarizer.count_tokens(summarizer.inputs)) <= summarizer.max_input_tokens


def test_sentences_go_to_the_model_longest_first_and_punctuation_passes_through(
    engines: tuple[Recording, Recording],
) -> None:
    translator, _ = engines
    text = "Kort.\n\nDit is een wat langere zin over de NAVO.\n\nKort.\n\n***\n\n…"
    result = run(RawDocument(text), engines, summary=False, batch_size=1)
    assert translator.batches == [["Dit is een wat langere zin over de NAVO."], ["Kort."]]
    assert result.source.paragraphs == [
        ["Kort."],
        ["Dit is een wat langere zin over de NAVO."],
        ["***"],
        ["…"],
    ]
    assert result.translation.paragraphs[2:] == [["***"], ["…"]]
    assert [(r.text, r.reason) for r in result.removed] == [("Kort.", "repeated sentence")]
    assert result.summary is None


def test_sentence_cache_spares_the_model(engines: tuple[Recording, Recording]) -> None:
    translator, _ = engines
    cache = DictCache()
    document = read_path(ARTICLES / "sherman-brussels-talks.txt")
    first = run(document, engines, summary=False, cache=cache)
    sent = len(translator.inputs)
    assert sent == len(cache.entries) > 0
    second = run(document, engines, summary=False, cache=cache)
    assert len(translator.inputs) == sent, "nothing new was sent to the model"
    assert second.translation == first.translation


def test_progress_is_monotonic_and_complete(engines: tuple[Recording, Recording]) -> None:
    events: list[tuple[int, int, str]] = []
    result = run(
        read_path(ARTICLES / "blinken-stoltenberg-written-reply.txt"),
        engines,
        batch_size=8,
        on_progress=lambda done, total, stage: events.append((done, total, stage)),
    )
    assert events[0] == (0, 0, "read"), "reading and cleaning is a stage of its own"
    translated = [(d, t) for d, t, stage in events if stage == "translate"]
    sentences = sum(shape(result.source.paragraphs)) + 1  # + the title
    assert translated[-1] == (sentences, sentences)
    assert [d for d, _ in translated] == sorted(d for d, _ in translated)
    summarized = [(d, t) for d, t, stage in events if stage == "summarize"]
    assert summarized and summarized[-1][0] == summarized[-1][1]
    assert [s for *_, s in events].index("summarize") > [s for *_, s in events].index("translate")


def test_long_articles_are_summarized_map_reduce(engines: tuple[Recording, Recording]) -> None:
    _, summarizer = engines
    run(read_path(ARTICLES / "blinken-stoltenberg-written-reply.txt"), engines)
    first_call = summarizer.batches[0]
    assert len(summarizer.batches) > 1 or len(first_call) > 1, "the article needed chunks"
    assert len(summarizer.batches[-1]) == 1, "the last call combines the partial summaries"


def test_chunks_hold_whole_sentences_in_order(engines: tuple[Recording, Recording]) -> None:
    _, summarizer = engines
    sentences = [f"Sentence number {i} says something about NATO and Russia." for i in range(80)]
    chunks = pack_chunks(sentences, _as(summarizer))
    assert len(chunks) > 1
    assert " ".join(chunks) == " ".join(sentences)
    assert max(summarizer.count_tokens(chunks)) <= summarizer.max_input_tokens


def test_cancelling_from_the_progress_callback_stops_between_batches(
    engines: tuple[Recording, Recording],
) -> None:
    translator, _ = engines

    def cancel_after_first_batch(done: int, total: int, stage: str) -> None:
        if translator.batches:
            raise CancelledError("stop")

    with pytest.raises(CancelledError):
        run(
            read_path(ARTICLES / "sherman-brussels-talks.txt"),
            engines,
            batch_size=4,
            on_progress=cancel_after_first_batch,
        )
    assert len(translator.batches) == 1


def test_not_dutch_is_refused_unless_the_check_is_off(engines: tuple[Recording, Recording]) -> None:
    english = RawDocument(
        "NATO and Russia met in Brussels on Wednesday to discuss security in Europe, but "
        "the talks ended without an agreement."
    )
    with pytest.raises(NotDutchError):
        run(english, engines)
    assert run(english, engines, check_language=False, summary=False).translation.paragraphs


def test_the_article_limit_holds_for_text_known_only_once_read(
    engines: tuple[Recording, Recording],
) -> None:
    """An HTML or Word file's text is measured when the worker has read it."""
    document = read_path(ARTICLES / "sherman-brussels-talks.txt")
    length = len(document.text)
    assert run(document, engines, max_chars=length, summary=False).translation.paragraphs
    translator, _ = engines
    translator.batches.clear()
    with pytest.raises(ArticleTooLargeError, match=f"the limit is {length - 1:,} characters"):
        run(document, engines, max_chars=length - 1)
    assert translator.batches == [], "refused before any model work"


def test_results_name_models_without_a_server_path(
    engines: tuple[Recording, Recording], tiny_models: TinyModels
) -> None:
    result = run(read_path(ARTICLES / "sherman-brussels-talks.txt"), engines)
    assert result.models.translation.startswith("marian@local-")
    assert result.models.summary is not None and result.models.summary.startswith("bart@local-")
    assert str(tiny_models.translation.parent) not in json.dumps(result.to_dict())


def test_empty_after_cleaning_is_an_error(engines: tuple[Recording, Recording]) -> None:
    with pytest.raises(EmptyArticleError):
        run(RawDocument("Meest gelezen\nVideospeler inladen..."), engines)


def test_engines_load_once_per_process(tiny_settings: Settings) -> None:
    first = load_engines(tiny_settings)
    again = load_engines(tiny_settings.model_copy(update={"batch_size": 3}))
    assert again.translator is first.translator
    assert again.summarizer is first.summarizer
    assert load_engines(tiny_settings, summary=False).summarizer is None
    translator: Translator = first.translator
    summarizer: Summarizer | None = first.summarizer
    assert translator.num_beams == 2 and summarizer is not None


class VerboseSummarizer:
    """A summarizer whose summaries are too long to combine: the reduce step must still end."""

    model_ref = "verbose"
    num_beams = 1
    max_input_tokens = 50
    max_summary_tokens = 40

    def __init__(self) -> None:
        self.calls = 0

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) + 2 for text in texts]

    def summarize_batch(self, texts: Sequence[str]) -> list[str]:
        self.calls += 1
        return [" ".join(["woord"] * 30) for _ in texts]


def test_summaries_too_long_to_combine_still_give_one_summary() -> None:
    from workers.pipeline.summarizing import summarize_sentences

    summarizer = VerboseSummarizer()
    sentences = [f"Zin {i} met een paar woorden erin." for i in range(40)]
    summary = summarize_sentences(sentences, summarizer)
    assert summary.split() == ["woord"] * 30
    assert summarizer.calls <= 3
