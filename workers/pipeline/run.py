"""The one function that takes a document through every stage with the given engines.

read (caller) -> clean -> check language -> split to the model limit -> translate ->
summarize -> Result. The CLI, the Celery task and the tests all call `translate_article`
(or, for several articles whose summaries share the model's batches, `draft_article` for
each and then `finish_articles`), so an article gives the same result through every door.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from workers.engines.protocols import Engines
from workers.pipeline.article import (
    Checks,
    CleanArticle,
    Models,
    RawDocument,
    Result,
    Source,
    Translation,
)
from workers.pipeline.cleaning import clean_article
from workers.pipeline.language import check_dutch
from workers.pipeline.reading import check_length
from workers.pipeline.sentences import SentenceCache, translate_checked
from workers.pipeline.splitting import fit_sentences, fit_to_limit
from workers.pipeline.summarizing import summarize_many
from workers.pipeline.terms.glossary import Glossary
from workers.pipeline.terms.names import glossary_for
from workers.settings import Settings

# Part of every cache key: bump it when a change to the pipeline changes its output.
# 3: results name their models by hub id or folder name, never by a path on the server.
PIPELINE_VERSION = "4"

# Called with (done, total, stage); may raise CancelledError to stop between batches. The
# stages, in order: "read" (cleaning, checking and splitting the text), "translate"
# (sentences done of total), "summarize" (summary steps done of total).
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RunOptions:
    summary: bool = True
    check_language: bool = True
    batch_size: int = 8
    max_sentence_tokens: int = 200
    max_chars: int | None = None  # the article size limit, on the text as read
    # What to enforce: the user's glossary over the built-in names (terms/names.py).
    glossary: Glossary | None = None

    @classmethod
    def from_settings(cls, settings: Settings, glossary: Glossary | None = None) -> RunOptions:
        """The settings' options, with the user's `glossary` (if any) over the names list
        (unless VERTAAL_NAMES is off)."""
        return cls(
            summary=settings.summary,
            check_language=settings.check_language,
            batch_size=settings.batch_size,
            max_sentence_tokens=settings.max_sentence_tokens,
            max_chars=settings.max_article_chars,
            glossary=glossary_for(glossary, names=settings.names),
        )


def prepare_article(document: RawDocument, *, check_language: bool = True) -> CleanArticle:
    """Clean the document and check it is Dutch: everything short of the models."""
    article = clean_article(document)
    if check_language:
        check_dutch(article.text())
    return article


@dataclass
class Draft:
    """An article translated, before its summary: the summaries of several drafts can share
    the model's batches (`finish_articles`)."""

    result: Result  # without a summary yet
    english: list[str]  # the translated body's sentences, what the summary reads
    on_progress: ProgressCallback | None
    summary: bool  # whether it wants one


def draft_article(
    document: RawDocument,
    engines: Engines,
    options: RunOptions,
    *,
    cache: SentenceCache | None = None,
    on_progress: ProgressCallback | None = None,
) -> Draft:
    """Clean, check, split and translate one article."""
    timings: dict[str, float] = {}
    report = on_progress or (lambda done, total, stage: None)
    translator = engines.translator
    if options.max_chars is not None:  # an HTML or Word file's text is known only now
        check_length(len(document.text), options.max_chars, "the article's text")
    report(0, 0, "read")

    with _timed(timings, "clean"):
        article = prepare_article(document, check_language=options.check_language)
    with _timed(timings, "split"):
        limit = min(options.max_sentence_tokens, translator.max_input_tokens)
        title = fit_to_limit(article.title, translator.count_tokens, limit) if article.title else []
        paragraphs = [fit_sentences(p, translator.count_tokens, limit) for p in article.paragraphs]
    with _timed(timings, "translate"):
        segments = title + [s for p in paragraphs for s in p]
        translated = translate_checked(
            segments,
            translator,
            batch_size=options.batch_size,
            glossary=options.glossary,
            cache=cache,
            on_batch=lambda done, total: report(done, total, "translate"),
        )
    result = Result(
        source=Source(title=article.title, date=article.date, paragraphs=paragraphs),
        translation=Translation(
            title=" ".join(translated[s].text for s in title) if title else None,
            paragraphs=[[translated[s].text for s in p] for p in paragraphs],
        ),
        summary=None,
        removed=article.removed,
        models=Models(translation=translator.model_ref, summary=None),
        timings=timings,
        checks=Checks.of(
            [flag for s in title for flag in translated[s].flags],
            [[translated[s].flags for s in p] for p in paragraphs],
        ),
    )
    english = [translated[s].text for p in paragraphs for s in p]
    return Draft(result, english, on_progress, options.summary)


def finish_articles(drafts: Sequence[Draft], engines: Engines) -> list[Result | Exception]:
    """Each draft with its summary (when it wants one), the summaries made together. A draft
    whose summary failed or was cancelled gets that exception in its place; the others are
    unaffected. Each article's `summarize` timing is the shared step's wall time."""
    summarizer = engines.summarizer
    wanted = [d for d in drafts if d.summary and summarizer is not None]
    started = time.perf_counter()
    summaries: list[str | Exception] = []
    if summarizer is not None and wanted:
        summaries = summarize_many(
            [d.english for d in wanted],
            summarizer,
            [_summary_steps(d.on_progress) for d in wanted],
            engines.memory,
        )
    seconds = round(time.perf_counter() - started, 3)
    made = dict(zip(map(id, wanted), summaries, strict=True))
    finished: list[Result | Exception] = []
    for draft in drafts:
        timings = dict(draft.result.timings)
        result = draft.result
        summary = made.get(id(draft))
        if isinstance(summary, Exception):
            finished.append(summary)
            continue
        if summary is not None and summarizer is not None:
            timings["summarize"] = seconds
            models = replace(result.models, summary=summarizer.model_ref)
            result = replace(result, summary=summary, models=models)
        timings["total"] = round(sum(timings.values()), 3)
        finished.append(replace(result, timings=timings))
    return finished


def _summary_steps(report: ProgressCallback | None) -> Callable[[int, int], None] | None:
    if report is None:
        return None
    return lambda done, total: report(done, total, "summarize")


def translate_article(
    document: RawDocument,
    engines: Engines,
    options: RunOptions,
    *,
    cache: SentenceCache | None = None,
    on_progress: ProgressCallback | None = None,
) -> Result:
    """Clean, translate and summarize one article."""
    draft = draft_article(document, engines, options, cache=cache, on_progress=on_progress)
    finished = finish_articles([draft], engines)[0]
    if isinstance(finished, Exception):
        raise finished
    return finished


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(time.perf_counter() - start, 3)
