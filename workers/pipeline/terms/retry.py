"""A second try for the sentences whose translation lacks a glossary term.

The model reads the English term in place of the Dutch one and copies it most of the time,
but not always: it may translate it back, inflect it or leave it out. Such a sentence is
translated once more with each missing term in double quotes (`de "Putin's" troepen`), which
the model copies more faithfully; the quotes this try added are taken out of its output again.
Of the two outputs, the one that lacks fewer terms is kept (the first one on a tie); what is
still missing is returned, for the checks to flag (`term_missing`). Sentences are never
dropped or reordered, and each goes to the model at most twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workers.pipeline.terms.matching import EnforcedSentence, missing_terms

# An engine's Translator.translate_batch: translations of texts, in order.
TranslateBatch = Callable[[Sequence[str]], list[str]]

# Quote marks a model may put around a quoted term in its output.
_QUOTES = "\"“”„«»‘’'"


@dataclass(frozen=True)
class TermOutcome:
    """A sentence's translation after the retry, and the expected terms it still lacks."""

    translation: str
    missing: tuple[str, ...]
    retried: bool  # whether the sentence went to the model a second time


def retry_missing_terms(
    sentences: Sequence[EnforcedSentence],
    translations: Sequence[str],
    translate_batch: TranslateBatch,
    *,
    batch_size: int = 8,
) -> list[TermOutcome]:
    """For each enforced sentence and its first translation: the better translation and the
    terms it still lacks. Only sentences that lack a term are translated again."""
    if len(sentences) != len(translations):
        raise ValueError(f"{len(sentences)} sentences but {len(translations)} translations")
    first_missing = [
        tuple(missing_terms(translation, sentence.expected))
        for sentence, translation in zip(sentences, translations, strict=True)
    ]
    second_sources = {
        index: quote_terms(sentence, first_missing[index])
        for index, sentence in enumerate(sentences)
        if first_missing[index]
    }
    second = _translate_once(list(second_sources.values()), translate_batch, batch_size)
    outcomes: list[TermOutcome] = []
    for index, sentence in enumerate(sentences):
        best = TermOutcome(translations[index], first_missing[index], retried=False)
        if index in second_sources:
            retried = unquote_terms(second[second_sources[index]], first_missing[index])
            missing = tuple(missing_terms(retried, sentence.expected))
            if len(missing) < len(best.missing):
                best = TermOutcome(retried, missing, retried=True)
            else:
                best = TermOutcome(best.translation, best.missing, retried=True)
        outcomes.append(best)
    return outcomes


def quote_terms(sentence: EnforcedSentence, terms: Sequence[str]) -> str:
    """The enforced text with each use of the given expected terms in double quotes (unless
    the source quotes it already)."""
    text = sentence.text
    for use in reversed(sentence.terms):  # from the end, so earlier spans stay where they are
        if use.expected not in terms:
            continue
        before, after = text[use.start - 1 : use.start], text[use.end : use.end + 1]
        if before and after and before in _QUOTES and after in _QUOTES:
            continue
        text = f'{text[: use.start]}"{use.english}"{text[use.end :]}'
    return text


def unquote_terms(translation: str, terms: Sequence[str]) -> str:
    """`translation` without the quote marks the retry put around `terms`."""
    for term in terms:
        quoted = re.compile(
            rf"[{_QUOTES}]\s?({re.escape(term)}(?:['’]s)?)\s?[{_QUOTES}]", re.IGNORECASE
        )
        translation = quoted.sub(r"\1", translation)
    return translation


def _translate_once(
    texts: list[str], translate_batch: TranslateBatch, batch_size: int
) -> dict[str, str]:
    unique = list(dict.fromkeys(texts))
    translated: dict[str, str] = {}
    for start in range(0, len(unique), batch_size):
        batch = unique[start : start + batch_size]
        translated.update(zip(batch, translate_batch(batch), strict=True))
    return translated
