"""Per-sentence checks: the ways machine translation fails that a reader without Dutch can be
warned of, each a flag with a code and a message that names what was expected.

`check_sentence(source, translation, expected_terms)` compares one Dutch sentence with its
English; every check is linear in the sentence's length. `count_flags` sums an article's
flags by code. Flags are frozen dataclasses of two strings: `dataclasses.asdict` makes JSON.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from workers.pipeline.checks.quantities import missing_quantities
from workers.pipeline.checks.verbatim import verbatim_parts
from workers.pipeline.language import SOURCE, TARGET, identify
from workers.pipeline.terms.matching import missing_terms


class Check(StrEnum):
    """Every flag's code, once (docs/terms-and-checks.md explains each)."""

    EMPTY = "empty"
    SAME_AS_SOURCE = "same_as_source"
    UNTRANSLATED = "untranslated"
    NUMBER_MISSING = "number_missing"
    URL_CHANGED = "url_changed"
    EMAIL_CHANGED = "email_changed"
    HASHTAG_CHANGED = "hashtag_changed"
    HANDLE_CHANGED = "handle_changed"
    TERM_MISSING = "term_missing"
    LENGTH_RATIO = "length_ratio"
    REPETITION = "repetition"


@dataclass(frozen=True)
class Flag:
    code: Check
    message: str


# English runs about as long as its Dutch source. The ratio is taken with SLACK_CHARS added
# to both lengths, so a short sentence (`Ja.` → `Yes, he said.`) has room either way.
MIN_LENGTH_RATIO = 0.5
MAX_LENGTH_RATIO = 2.0
SLACK_CHARS = 15
# A loop: the same run of 1 to MAX_LOOP_WORDS words MIN_LOOP_REPEATS times in a row, when the
# source has no such loop itself.
MAX_LOOP_WORDS = 6
MIN_LOOP_REPEATS = 4
# Still Dutch: names are left out first (capitalised words, and `van der` before one), and at
# least MIN_COMMON_WORDS must remain; then py3langid, choosing between Dutch and English, must
# be this sure of Dutch. Names and short quotes must not trip it.
MIN_COMMON_WORDS = 3
MIN_DUTCH_CONFIDENCE = 95.0
LANGUAGE_SAMPLE_WORDS = 200
_NAME_PARTICLES = {"van", "de", "der", "den", "ter", "ten", "het", "'t", "von", "al", "el",
                   "bin", "ibn", "la", "le", "du", "da", "di", "des"}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
_VERBATIM_CODES = {
    "url": (Check.URL_CHANGED, "URL"),
    "email": (Check.EMAIL_CHANGED, "e-mail address"),
    "hashtag": (Check.HASHTAG_CHANGED, "hashtag"),
    "handle": (Check.HANDLE_CHANGED, "handle"),
}


def check_sentence(source: str, translation: str, expected_terms: Sequence[str] = ()) -> list[Flag]:
    """The flags one translated sentence raises; none for a translation that looks sound."""
    if not translation.strip():
        if any(ch.isalnum() for ch in source):
            return [Flag(Check.EMPTY, "the translation is empty")]
        return []
    flags = _language_flags(source, translation)
    flags += [
        Flag(Check.NUMBER_MISSING, f"expected {q.english} (Dutch: {q.dutch})")
        for q in missing_quantities(source, translation)
    ]
    for part in verbatim_parts(source):
        if part.text not in translation:
            code, what = _VERBATIM_CODES[part.kind]
            flags.append(Flag(code, f"expected the {what} {part.text} unchanged"))
    flags += [
        Flag(Check.TERM_MISSING, f"expected the term {term}")
        for term in missing_terms(translation, expected_terms)
    ]
    flags += _length_flags(source, translation)
    flags += _repetition_flags(source, translation)
    return flags


def count_flags(checks: Iterable[Sequence[Flag]]) -> dict[str, int]:
    """An article's flags counted by code (codes with no flag left out)."""
    return dict(Counter(str(flag.code) for flags in checks for flag in flags))


def _language_flags(source: str, translation: str) -> list[Flag]:
    source_words = common_words(source)
    if (
        " ".join(source.split()).casefold() == " ".join(translation.split()).casefold()
        and len(source_words) >= MIN_COMMON_WORDS
        and _dutch_confidence(source_words) >= 50
    ):
        return [Flag(Check.SAME_AS_SOURCE, "the translation is the Dutch source, unchanged")]
    words = common_words(translation)
    if len(words) >= MIN_COMMON_WORDS and _dutch_confidence(words) >= MIN_DUTCH_CONFIDENCE:
        return [Flag(Check.UNTRANSLATED, "the translation still reads as Dutch")]
    return []


def common_words(text: str) -> list[str]:
    """The words of `text` that are not (part of) names: capitalised words, and particles
    such as `van der` right before one."""
    kept: list[str] = []
    before_name = False  # whether the word after this one is (part of) a name
    for word in reversed(_WORD.findall(text)):
        if word[0].isupper() or (before_name and word.lower() in _NAME_PARTICLES):
            before_name = True
        else:
            kept.append(word)
            before_name = False
    return kept[::-1]


def _dutch_confidence(words: list[str]) -> float:
    # The first words are enough to tell, and keep the cost bounded on a runaway output.
    found = identify(" ".join(words[:LANGUAGE_SAMPLE_WORDS]))
    if found.code == SOURCE:
        return found.confidence
    return 100.0 - found.confidence if found.code == TARGET else 0.0


def _length_flags(source: str, translation: str) -> list[Flag]:
    ratio = (len(translation.strip()) + SLACK_CHARS) / (len(source.strip()) + SLACK_CHARS)
    if MIN_LENGTH_RATIO <= ratio <= MAX_LENGTH_RATIO:
        return []
    size = "short" if ratio < MIN_LENGTH_RATIO else "long"
    return [
        Flag(
            Check.LENGTH_RATIO,
            f"the translation is unusually {size}: {len(translation.strip())} characters for "
            f"{len(source.strip())} in Dutch (expected {MIN_LENGTH_RATIO:g} to "
            f"{MAX_LENGTH_RATIO:g} times as long)",
        )
    ]


def _repetition_flags(source: str, translation: str) -> list[Flag]:
    repeats, words = longest_loop(_TOKEN.findall(translation.lower()))
    if repeats < MIN_LOOP_REPEATS or longest_loop(_TOKEN.findall(source.lower()))[0] >= repeats:
        return []
    return [
        Flag(Check.REPETITION, f'the words "{" ".join(words)}" repeat {repeats} times in a row')
    ]


def longest_loop(tokens: Sequence[str]) -> tuple[int, tuple[str, ...]]:
    """(times, words) of the run of 1 to MAX_LOOP_WORDS tokens repeated most often in a row;
    (1, ()) when nothing repeats. One pass per run length."""
    best: tuple[int, tuple[str, ...]] = (1, ())
    for size in range(1, MAX_LOOP_WORDS + 1):
        same = 0  # tokens so far equal to the token `size` before them
        for index in range(size, len(tokens)):
            same = same + 1 if tokens[index] == tokens[index - size] else 0
            times = 1 + same // size
            if times > best[0]:
                start = index - same - size + 1
                best = (times, tuple(tokens[start : start + size]))
    return best
