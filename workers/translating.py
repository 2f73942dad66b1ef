"""What a worker does with one piece of work, given its models: an article job, a document
job, or a batch of short texts. The tasks (`tasks.py`) wrap these with job records, leases
and replies; this module only translates."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bs4 import UnicodeDammit

from workers.cache import SentenceCache
from workers.connections import redis_client
from workers.engines.factory import drain_load_times, load_engines
from workers.engines.protocols import Engines
from workers.engines.signature import worker_signature
from workers.errors import INTERRUPTIONS
from workers.glossaries import GlossaryNotFoundError, GlossaryStore
from workers.jobs.record import JobOptions
from workers.operations.metrics import MetricsRecorder
from workers.operations.timeline import Timeline
from workers.pipeline.article import Models, Result, SourceFile
from workers.pipeline.documents import TranslatedFile, file_result, translate_file
from workers.pipeline.markup import translate_html
from workers.pipeline.reading import read_source, suffix_of
from workers.pipeline.run import (
    Draft,
    ProgressCallback,
    RunOptions,
    draft_article,
    finish_articles,
)
from workers.pipeline.summarizing import summarize_sentences
from workers.pipeline.texts import SentenceTranslator, translate_plain
from workers.settings import Settings


@functools.cache
def cached_signature(settings: Settings) -> dict[str, Any]:
    return worker_signature(settings)


@dataclass
class Made:
    """A job's work: its result, the sentences to cache if it ends well, whether it ran on
    the models its signature names, and, for a document job, the translated file."""

    result: Result
    sentences: SentenceCache
    as_signed: bool
    file: TranslatedFile | None = None


def engines_for(settings: Settings, *, summary: bool, metrics: MetricsRecorder) -> Engines:
    engines = load_engines(settings, summary=summary)
    for role, backend, seconds in drain_load_times():
        metrics.observe("vertaal_model_load_seconds", seconds, role=role, backend=backend)
    return engines


def sentence_cache(settings: Settings, metrics: MetricsRecorder) -> SentenceCache:
    signature = cached_signature(settings)
    client = redis_client(settings.cache_redis_url())
    return SentenceCache(client, signature["translation"], settings.cache_ttl, metrics)


@dataclass(frozen=True)
class ArticleWork:
    """One article job of a batch: its input, options, and where its progress goes."""

    source: SourceFile
    options: JobOptions
    on_progress: ProgressCallback


def translate_job(
    source: SourceFile, options: JobOptions, settings: Settings, on_progress: ProgressCallback,
    timeline: Timeline | None = None,
) -> Made:  # fmt: skip
    timeline = timeline or Timeline()
    if options.kind == "document":
        metrics = MetricsRecorder(redis_client(settings.redis_url))
        with timeline.stage("load"):
            engines = engines_for(settings, summary=options.summary, metrics=metrics)
        run = replace(run_options(settings, options.glossary), summary=options.summary)
        cache = sentence_cache(settings, metrics)
        return _document(source, run, engines, cache, on_progress, timeline)
    made = translate_jobs([ArticleWork(source, options, on_progress)], settings, timeline)[0]
    if isinstance(made, Exception):
        raise made
    return made


def translate_jobs(
    work: Sequence[ArticleWork], settings: Settings, timeline: Timeline | None = None
) -> list[Made | Exception]:
    """Article jobs taken together: each translated on its own (with its own sentence cache,
    flushed only if it ends well), their summaries made together. An article that fails or
    is cancelled gets its exception in its place; the others go on. Where the time went is
    added to `timeline`."""
    timeline = timeline or Timeline()
    metrics = MetricsRecorder(redis_client(settings.redis_url))
    with timeline.stage("load"):
        wanted = any(w.options.summary for w in work)
        engines = engines_for(settings, summary=wanted, metrics=metrics)
    caches = [sentence_cache(settings, metrics) for _ in work]
    outcomes: dict[int, Made | Exception] = {}
    drafts: dict[int, Draft] = {}
    runs: dict[int, RunOptions] = {}
    for i, item in enumerate(work):
        try:
            runs[i] = replace(
                run_options(settings, item.options.glossary), summary=item.options.summary,
                check_language=item.options.check_language,
            )  # fmt: skip
            with timeline.stage("read"):
                document = read_source(item.source)
            drafts[i] = draft_article(document, engines, runs[i],
                                      cache=caches[i], on_progress=item.on_progress)  # fmt: skip
        except INTERRUPTIONS:
            raise
        except Exception as error:
            outcomes[i] = error
    for draft in drafts.values():
        timings = draft.result.timings
        timeline.add("read", timings["clean"] + timings["split"])
        timeline.add("translate", timings["translate"])
    with timeline.stage("summarize"):
        finished = finish_articles(list(drafts.values()), engines)
    for i, result in zip(drafts, finished, strict=True):
        if isinstance(result, Exception):
            outcomes[i] = result
            continue
        if work[i].options.markup:
            try:
                with timeline.stage("translate"):
                    result = with_markup(result, work[i].source, engines, runs[i], caches[i])
            except INTERRUPTIONS:
                raise
            except Exception as error:
                outcomes[i] = error
                continue
        outcomes[i] = Made(result, caches[i], engines.as_signed)
    return [outcomes[i] for i in range(len(work))]


def run_options(settings: Settings, glossary: str | None) -> RunOptions:
    """The settings' options with the glossary version a job or request was sent with (by
    its digest); GlossaryNotFoundError when that version is no longer kept."""
    if glossary is None:
        return RunOptions.from_settings(settings)
    store = GlossaryStore(redis_client(settings.redis_url), settings.job_ttl)
    entries = store.entries(glossary)
    if entries is None:
        raise GlossaryNotFoundError(
            "the glossary this was sent with is no longer kept; send it again"
        )
    return RunOptions.from_settings(settings, entries)


def with_markup(
    result: Result, source: SourceFile, engines: Engines, run: RunOptions, cache: Any
) -> Result:
    """An HTML article's result with the page itself translated, markup kept. Sentences the
    article already had come from the cache (its pending entries too), not the model."""
    if suffix_of(source.name) not in (".html", ".htm"):
        return result
    html = UnicodeDammit(source.data, ["utf-8"]).unicode_markup or ""
    return replace(result, markup=translate_html(html, _sentence_translator(engines, run, cache)))


def _sentence_translator(
    engines: Engines,
    run: RunOptions,
    sentences: Any,
    on_progress: ProgressCallback | None = None,
) -> SentenceTranslator:
    return SentenceTranslator(
        engines.translator,
        batch_size=run.batch_size,
        max_sentence_tokens=run.max_sentence_tokens,
        cache=sentences,
        glossary=run.glossary,
        on_batch=(lambda done, total: on_progress(done, total, "translate"))
        if on_progress
        else None,
    )


def _document(
    source: SourceFile,
    run: RunOptions,
    engines: Engines,
    sentences: SentenceCache,
    on_progress: ProgressCallback,
    timeline: Timeline,
) -> Made:
    started = time.perf_counter()
    translate = _sentence_translator(engines, run, sentences, on_progress)
    with timeline.stage("translate"):  # the file's reading and writing included
        translated = translate_file(source, translate)
    models = Models(translation=engines.translator.model_ref, summary=None)
    result = file_result(translate, models, {"translate": time.perf_counter() - started})
    if run.summary and engines.summarizer is not None:
        english = [t for _, t in translate.pairs]
        with timeline.stage("summarize"):
            summary = summarize_sentences(
                english,
                engines.summarizer,
                on_step=lambda d, t: on_progress(d, t, "summarize"),
                memory=engines.memory,
            )
        result = replace(
            result, summary=summary, models=replace(models, summary=engines.summarizer.model_ref)
        )
    timings = {**result.timings, "total": round(time.perf_counter() - started, 3)}
    return Made(replace(result, timings=timings), sentences, engines.as_signed, translated)


@dataclass(frozen=True)
class TextsResult:
    texts: list[str]
    summary: str | None
    # Per text, its sentences' flags (workers/pipeline/checks) as {code, message}.
    checks: list[list[dict[str, str]]] = field(default_factory=list)


def translate_texts(
    texts: list[str], *, html: bool, summary: bool, settings: Settings,
    glossary: str | None = None,
) -> TextsResult:  # fmt: skip
    """Short texts (LibreTranslate, DeepL) translated as they are, each in one go, with
    the glossary version `glossary` (a digest) enforced when there is one."""
    metrics = MetricsRecorder(redis_client(settings.redis_url))
    sentences = sentence_cache(settings, metrics)
    run = run_options(settings, glossary)
    engines = engines_for(settings, summary=summary, metrics=metrics)
    translate = _sentence_translator(engines, run, sentences)
    out, checks = [], []
    for text in texts:
        before = len(translate.flags)
        out.append(translate_html(text, translate) if html else translate_plain(text, translate))
        flags = (flag for sentence in translate.flags[before:] for flag in sentence)
        checks.append([{"code": flag.code.value, "message": flag.message} for flag in flags])
    made_summary = None
    if summary and engines.summarizer is not None and translate.pairs:
        english = [t for _, t in translate.pairs]
        made_summary = summarize_sentences(english, engines.summarizer, memory=engines.memory)
    if engines.as_signed:
        sentences.flush()
    return TextsResult(out, made_summary, checks)
