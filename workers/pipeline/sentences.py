"""Sentences to the model and back: each distinct one translated once (a sentence cache spares
repeats), a glossary's terms enforced, and every translation checked.

`translate_segments` is the model call itself: length-sorted batches, progress per batch.
`translate_checked` wraps it for every door: the glossary's Dutch terms (the user's over the
built-in names) are put in English before the model reads the sentence; a sentence whose
output lacks an expected term is tried once more (workers/pipeline/terms/retry.py); then each
translation is checked (workers/pipeline/checks), and its flags go with it. The sentence
cache keys on what the model read, so a changed glossary never reuses a stale translation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from workers.engines.protocols import Translator
from workers.pipeline.checks.sentence import Flag, check_sentence
from workers.pipeline.splitting import needs_model
from workers.pipeline.terms.glossary import Glossary
from workers.pipeline.terms.matching import EnforcedSentence, apply_terms
from workers.pipeline.terms.retry import retry_missing_terms

# Called with (sentences done, of total) after each batch.
BatchCallback = Callable[[int, int], None]


class SentenceCache(Protocol):
    """Translations of single sentences, keyed by the caller's model and settings."""

    def get_many(self, sentences: Sequence[str]) -> dict[str, str]: ...

    def set_many(self, translations: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class Translated:
    """One sentence's translation and what a reader should know about it."""

    text: str
    flags: tuple[Flag, ...] = ()


def translate_checked(
    segments: Sequence[str],
    translator: Translator,
    *,
    batch_size: int,
    glossary: Glossary | None = None,
    cache: SentenceCache | None = None,
    on_batch: BatchCallback | None = None,
) -> dict[str, Translated]:
    """Every segment's checked translation, the glossary's terms enforced."""
    unique = list(dict.fromkeys(segments))
    if glossary is not None and len(glossary):
        enforced = dict(zip(unique, apply_terms(unique, glossary), strict=True))
    else:
        enforced = {s: EnforcedSentence(s, s) for s in unique}
    first = translate_segments(
        [enforced[s].text for s in segments], translator, batch_size=batch_size, cache=cache,
        on_batch=on_batch,
    )  # fmt: skip
    final = {s: first[enforced[s].text] for s in unique}
    with_terms = [s for s in unique if enforced[s].terms]
    if with_terms:
        outcomes = retry_missing_terms(
            [enforced[s] for s in with_terms], [final[s] for s in with_terms],
            translator.translate_batch, batch_size=batch_size,
        )  # fmt: skip
        better = (outcome.translation for outcome in outcomes)
        final.update(zip(with_terms, better, strict=True))
    return {
        s: Translated(final[s], tuple(check_sentence(s, final[s], enforced[s].expected)))
        if needs_model(s) else Translated(final[s])
        for s in unique
    }  # fmt: skip


def translate_segments(
    segments: Sequence[str],
    translator: Translator,
    *,
    batch_size: int,
    cache: SentenceCache | None = None,
    on_batch: BatchCallback | None = None,
) -> dict[str, str]:
    """Translation of every segment; each distinct sentence goes to the model at most once.

    Segments with nothing to translate pass through unchanged. The rest are sorted by length so
    each batch pads little, translated batch by batch, and cached afterwards.
    """
    result = {s: s for s in segments if not needs_model(s)}
    wanted = list(dict.fromkeys(s for s in segments if needs_model(s)))
    if cache is not None and wanted:
        result.update(cache.get_many(wanted))
    todo = [s for s in wanted if s not in result]
    counts = dict(zip(todo, translator.count_tokens(todo), strict=True))
    todo.sort(key=lambda s: counts[s], reverse=True)

    occurrences = Counter(segments)
    total = len(segments)
    done = sum(occurrences[s] for s in result)
    if on_batch:
        on_batch(done, total)
    fresh: dict[str, str] = {}
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        fresh.update(zip(batch, translator.translate_batch(batch), strict=True))
        done += sum(occurrences[s] for s in batch)
        if on_batch:
            on_batch(done, total)
    if cache is not None and fresh:
        cache.set_many(fresh)
    result.update(fresh)
    return result
