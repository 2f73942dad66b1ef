"""Which language a text is in: the article check (refuse what is clearly not Dutch) and, per
short text, what the LibreTranslate and DeepL doors do with it (translate it as Dutch, give
English back as it is, or name the language Vertaal cannot translate).

py3langid ships its own model (no download; it knows about a hundred languages) and gives
normalised probabilities, so both rules can be strict about "clearly": short or mixed text
that could still be Dutch is taken as Dutch. Its probabilities are honest about short text
(a greeting of two words rarely scores above 0.5), which the short-text rule relies on.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

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

# A short text is identified among the languages translation clients send (DeepL's source
# languages): the full model's rarer languages (Nigerian Pidgin, Fulah...) are what short
# English and Spanish most often look like to it. From this many letters on, the full model.
_SHORT_TEXT_LETTERS = 40
_COMMON = (
    "ar", "bg", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he", "hi", "hu",
    "id", "it", "ja", "ko", "lt", "lv", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sv",
    "th", "tr", "uk", "vi", "zh",
)  # fmt: skip
# A text is in a third language when that language scores at least this and five times as
# much as Dutch and English: "Danke schön" (de 0.90) and "Merci beaucoup" (fr 0.74) are;
# "Guten Morgen" (de 0.30) is not, and is translated as Dutch.
_CLEAR_OTHER_PROBABILITY = 0.4
_CLEAR_OTHER_MARGIN = 5.0
# Markup is not language: tags and entities are removed before identifying (a toot's
# `<a href=... class="mention">` would otherwise read as English).
_TAG = re.compile(r"<[^>]*>")

# What Vertaal translates from, and into.
SOURCE, TARGET = "nl", "en"


@functools.cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.cache
def _common_languages() -> LanguageIdentifier:
    """The full model's tables, restricted (a copy of their columns, not a second model)."""
    full = _identifier()
    identifier = LanguageIdentifier(
        full.nb_ptc, full.nb_pc, full.nb_classes, full.tk_nextmove, full.tk_output,
        norm_probs=True, tk_row=full.tk_row,
    )  # fmt: skip
    identifier.set_languages(_COMMON)
    return identifier


@dataclass(frozen=True)
class Identified:
    """A text's language as the short-text doors take it: `language` is an ISO 639 code, or
    None for a text without letters (emoji, numbers), which has none; `confidence` is 0-100
    (as LibreTranslate reports it); `others` are the next candidates, best first."""

    language: str | None
    confidence: float
    others: tuple[tuple[str, float], ...] = ()

    @property
    def translatable(self) -> bool:
        """Dutch (or a language the identifier cannot tell from Dutch): what Vertaal translates."""
        return self.language in _NEAR_DUTCH

    @property
    def code(self) -> str | None:
        """The language Vertaal reports for it: a near-Dutch language is translated as Dutch."""
        return SOURCE if self.translatable else self.language


def visible_text(text: str, *, markup: bool) -> str:
    """What a reader sees of `text`: with `markup`, its tags dropped and entities decoded."""
    return html.unescape(_TAG.sub(" ", text)) if markup else text


def _percent(probability: float) -> float:
    return round(probability * 100, 1)


def identify(text: str) -> Identified:
    """The language of one short text, by the doors' rule: a text in another script, or one
    that is clearly in a third language, is that language; any other text is Dutch or
    English, whichever scores higher (Dutch on a tie: the doors translate Dutch)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return Identified(None, 0.0)
    short = len(letters) < _SHORT_TEXT_LETTERS
    ranking = (_common_languages() if short else _identifier()).rank(text)
    scores = dict(ranking)
    best, probability = ranking[0]
    dutch = sum(scores.get(code, 0.0) for code in _NEAR_DUTCH)
    english = scores.get(TARGET, 0.0)
    latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters) * 2 > len(letters)
    clearly = probability >= _CLEAR_OTHER_PROBABILITY and probability >= _CLEAR_OTHER_MARGIN * max(
        dutch, english
    )
    if best not in _NEAR_DUTCH and best != TARGET and (clearly or not latin):
        return Identified(best, _percent(probability), _others(ranking[1:4], best))
    choice, share = (TARGET, english) if english > dutch else (SOURCE, dutch)
    confidence = _percent(share / (dutch + english)) if dutch + english else 50.0
    return Identified(choice, confidence, _others(ranking[:3], choice))


def _others(ranking: list[tuple[str, float]], chosen: str) -> tuple[tuple[str, float], ...]:
    return tuple((code, _percent(p)) for code, p in ranking if code != chosen)[:2]


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
            language=best,
        )
