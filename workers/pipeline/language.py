"""Refuse articles that are clearly not Dutch, saying what they look like instead.

py3langid ships its own model (no download) and gives normalised probabilities, so the check
can be strict about "clearly": short or mixed text that could still be Dutch passes.
"""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from workers.errors import NotDutchError

# Refuse only when another language is this certain and Dutch this unlikely: names, numbers
# and quotes in other languages must not trip the check on a real Dutch article.
_MIN_OTHER_PROBABILITY = 0.9
_MAX_DUTCH_PROBABILITY = 0.01
_MIN_LETTERS = 20
# Languages the identifier confuses with Dutch on short text.
_NEAR_DUTCH = {"nl", "af", "fy", "li", "lb"}


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


# What Vertaal translates from, and into.
SOURCE, TARGET = "nl", "en"


@functools.cache
def _between_ours() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([SOURCE, TARGET])
    return identifier


def detect(text: str) -> list[tuple[str, float]]:
    """Dutch or English, best first, with a confidence from 0 to 100 (as LibreTranslate
    reports it): for `source=auto`, where the only other answer that matters is English."""
    ranking = _between_ours().rank(text)
    return [(code, round(probability * 100, 1)) for code, probability in ranking]


def language_name(code: str) -> str:
    if code == "zxx":
        return "no natural language"
    try:
        return Locale.parse(code).english_name or code
    except (UnknownLocaleError, ValueError):
        return code


def check_dutch(text: str) -> None:
    """Raise NotDutchError if `text` is clearly in another language."""
    if sum(ch.isalpha() for ch in text) < _MIN_LETTERS:
        return
    ranking = dict(_identifier().rank(text))
    best, probability = max(ranking.items(), key=lambda item: item[1])
    if (
        best not in _NEAR_DUTCH
        and probability >= _MIN_OTHER_PROBABILITY
        and ranking.get("nl", 0.0) <= _MAX_DUTCH_PROBABILITY
    ):
        looks_like = f"{language_name(best)} ({best}, {probability:.0%} sure)"
        raise NotDutchError(
            f"this text looks like {looks_like}, not Dutch; Vertaal translates Dutch articles "
            "(to translate it anyway, turn the language check off: `--any-language`, or "
            '`"check_language": false` in the API)',
            looks_like=looks_like,
        )
