"""Find a glossary's Dutch terms in sentences and put their English in place.

Marian models were never trained on placeholders (a masked `###T01###` comes back mangled),
and CTranslate2 has no constrained decoding, so terms are enforced on the source side: the
Dutch term is replaced by its English before translation (the model then copies it), and the
output is checked for the English afterwards (`missing_terms`).

Matching is case-insensitive, on word boundaries (a hyphen is one, so `Poetin-regime` becomes
`Putin-regime`), leftmost and then longest first, never overlapping; text outside the matched
terms is never changed, dropped or moved. All forms of all entries go into one Aho-Corasick
automaton (pyahocorasick), so a sentence is scanned once whatever the glossary's size. Measured
on a 10,000-entry glossary and a 150 KB article: the automaton builds in about 0.06 s and finds
the terms in about 0.03 s; the same forms compiled into one trie-shaped regular expression
found them as fast but took 1.3 to 1.8 s to compile, paid by every worker for every new
glossary version (`python -m bench.terms` times this module).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import ahocorasick

from workers.pipeline.terms.glossary import Form, Glossary, folded

# Matchers kept per process, by glossary digest: a job reuses its glossary for each article.
_CACHED_MATCHERS = 8


@dataclass(frozen=True)
class TermUse:
    """One term found in a sentence, where its English now stands in the enforced text."""

    dutch: str  # as the source wrote it (`Poetins`)
    english: str  # what replaced it (`Putin's`)
    expected: str  # what the translation must contain (`Putin`)
    start: int  # span of `english` in EnforcedSentence.text
    end: int


@dataclass(frozen=True)
class EnforcedSentence:
    """A Dutch sentence with its glossary terms already in English: what the model reads."""

    source: str
    text: str
    terms: tuple[TermUse, ...] = ()

    @property
    def expected(self) -> tuple[str, ...]:
        """The English terms the translation must contain, each once, in order."""
        return tuple(dict.fromkeys(term.expected for term in self.terms))


class TermMatcher:
    """One glossary ready for matching; get it from `matcher_for`, which keeps it."""

    def __init__(self, glossary: Glossary) -> None:
        self.forms: dict[str, Form] = {key: form for key, (_, form) in glossary.forms.items()}
        self.automaton = ahocorasick.Automaton()
        for key in self.forms:
            self.automaton.add_word(key, len(key))
        if self.forms:
            self.automaton.make_automaton()

    def find(self, sentence: str) -> Iterator[tuple[int, int, Form]]:
        """(start, end, form) of each term in `sentence`, leftmost-longest, not overlapping."""
        if not self.forms:
            return
        lowered = folded(sentence)
        found = [
            (end + 1 - length, end + 1)
            for end, length in self.automaton.iter(lowered)
            if _bounded(lowered, end + 1 - length, end + 1)
        ]
        found.sort(key=lambda span: (span[0], -span[1]))
        taken = 0
        for start, end in found:
            if start >= taken:
                taken = end
                yield start, end, self.forms[lowered[start:end]]

    def enforce(self, sentence: str) -> EnforcedSentence:
        """`sentence` with each matched term replaced by its English form."""
        pieces: list[str] = []
        uses: list[TermUse] = []
        length = 0  # of the pieces so far
        last = 0
        for start, end, form in self.find(sentence):
            pieces.append(sentence[last:start])
            length += start - last
            english = _cased_like(sentence[start:end], form.english)
            pieces.append(english)
            uses.append(
                TermUse(sentence[start:end], english, form.expected, length, length + len(english))
            )
            length += len(english)
            last = end
        pieces.append(sentence[last:])
        return EnforcedSentence(sentence, "".join(pieces), tuple(uses))


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _bounded(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is not part of a longer word: no letter or digit touches it."""
    return (start == 0 or not _is_word_char(text[start - 1])) and (
        end == len(text) or not _is_word_char(text[end])
    )


def apply_terms(sentences: Sequence[str], glossary: Glossary) -> list[EnforcedSentence]:
    """Each sentence with the glossary's terms in English, in the same order."""
    matcher = matcher_for(glossary)
    return [matcher.enforce(sentence) for sentence in sentences]


_matchers: OrderedDict[str, TermMatcher] = OrderedDict()


def matcher_for(glossary: Glossary) -> TermMatcher:
    """The compiled matcher of `glossary`, built on first use and kept for the next ones."""
    key = f"{glossary.digest}:{len(glossary)}"
    if key in _matchers:
        _matchers.move_to_end(key)
        return _matchers[key]
    matcher = _matchers[key] = TermMatcher(glossary)
    while len(_matchers) > _CACHED_MATCHERS:
        _matchers.popitem(last=False)
    return matcher


def missing_terms(translation: str, expected: Iterable[str]) -> list[str]:
    """The expected English terms that `translation` lacks (case-insensitive, on word
    boundaries: `Putin` is found in `Putin's` and `Putin-regime`, not in `Putinism`)."""
    return [
        term for term in expected
        if not re.search(rf"(?<!\w){re.escape(term)}(?!\w)", translation, re.IGNORECASE)
    ]  # fmt: skip


def _cased_like(matched: str, english: str) -> str:
    """A lower-case English term at the start of a capitalised match (a sentence's first word)
    is capitalised too; names keep the glossary's own casing."""
    if matched[:1].isupper() and english[:1].islower():
        return english[0].upper() + english[1:]
    return english
