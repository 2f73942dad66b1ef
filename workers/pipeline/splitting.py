"""Split paragraphs into sentences, and sentences into pieces the translation model accepts.

Sentence boundaries come from pySBD's Dutch rules, extended with the abbreviations Dutch news
uses before names and numbers (`dhr. Jansen`, `1 jan. 2022`), which pySBD's Dutch list lacks.
A sentence longer than the model's input limit is cut at the clause boundary nearest its
middle (then at a space, then anywhere) until every piece fits, so nothing is ever truncated.

pySBD's time grows with the square of what it is given (a 200 KB paragraph with no sentence
end takes over a minute), so a long paragraph is first cut into windows of at most
WINDOW_CHARS, after the last likely sentence end in each (else at a space): splitting is then
linear in the length of the text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence

import pysbd
from pysbd.lang.dutch import Dutch

TokenCounter = Callable[[Sequence[str]], list[int]]

_MONTHS = ["jan", "feb", "mrt", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dec"]


class _NewsDutch(Dutch):
    """pySBD's Dutch, plus titles before names and abbreviations before numbers."""

    class Abbreviation(Dutch.Abbreviation):
        # pySBD reads these lists as class attributes.
        ABBREVIATIONS = [*Dutch.Abbreviation.ABBREVIATIONS, *_MONTHS, "mevr", "mw", "bv", "vgl"]  # noqa: RUF012
        PREPOSITIVE_ABBREVIATIONS = [  # noqa: RUF012
            "dhr", "mevr", "mw", "prof", "dr", "mr", "drs", "ir", "ing", "st", "sint",
            "gen", "kol", "lt", "kapt", "burg", "mgr", "zr", "br", "hr",
        ]  # fmt: skip
        NUMBER_ABBREVIATIONS = [  # noqa: RUF012
            "nr", "nrs", "art", "blz", "p", "pag", "hfst", "fig", "tel", "vol", *_MONTHS,
        ]  # fmt: skip


@functools.cache
def _segmenter() -> pysbd.Segmenter:
    segmenter = pysbd.Segmenter(language="nl", clean=False)
    segmenter.language_module = _NewsDutch
    return segmenter


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _segment(text: str) -> list[str]:
    return [s for s in (piece.strip() for piece in _segmenter().segment(text)) if s]


# pySBD keeps a quotation whole however many sentences it holds; opus-mt tends to drop
# sentences from such long inputs. So a segment that is one quotation, possibly followed by its
# attribution (`“A. B”, zegt X.`), is split inside the quote marks, which stay on the first and
# last piece. With an attribution only double quotes count: ’ and ' are also apostrophes.
_QUOTATION = re.compile(r'^(?P<open>[“"‘\'„])(?P<inner>.+)(?P<close>[”"’\'])(?P<tail>)$', re.DOTALL)
_ATTRIBUTED_QUOTATION = re.compile(
    r'^(?P<open>[“"„])(?P<inner>[^”"]+)(?P<close>[”"])(?P<tail>,?\s+\S.*)$', re.DOTALL
)


def _split_quotation(segment: str) -> list[str]:
    quotation = _QUOTATION.match(segment) or _ATTRIBUTED_QUOTATION.match(segment)
    if quotation is None:
        return [segment]
    pieces = _segment(quotation["inner"])
    if len(pieces) < 2:
        return [segment]
    pieces[0] = quotation["open"] + pieces[0]
    pieces[-1] += quotation["close"] + quotation["tail"]
    return pieces


# A closing quote that pySBD left at the start of the next sentence (it does so when the
# opening quote is not in the same paragraph): curly closers, or a straight one before a space.
_LEADING_CLOSER = re.compile(r'^(?:[”’»]+|["\'](?=\s))')


def _reattach_closing_quotes(sentences: list[str]) -> list[str]:
    result: list[str] = []
    for sentence in sentences:
        closer = _LEADING_CLOSER.match(sentence)
        if closer and result and result[-1][-1:] in ".!?…":
            result[-1] += closer.group(0)
            sentence = sentence[closer.end() :].strip()
        if sentence:
            result.append(sentence)
    return result


WINDOW_CHARS = 1_000
# Where a window is best cut: after sentence-final punctuation (and closing quotes), before
# what may start a sentence. pySBD decides the finer points inside each window.
_LIKELY_END = re.compile(r"[.!?…][\"”’)\]]*\s+(?=[\"“‘(\[]?[A-ZÀ-Ý0-9])")


def windows(paragraph: str) -> Iterator[str]:
    """Consecutive pieces of `paragraph`, each at most WINDOW_CHARS long, that together hold
    all of it: cut after the last likely sentence end in the window's second half, else at
    its last space, else at the limit."""
    start = 0
    while len(paragraph) - start > WINDOW_CHARS:
        limit = start + WINDOW_CHARS
        ends = [m.end() for m in _LIKELY_END.finditer(paragraph, start + WINDOW_CHARS // 2, limit)]
        cut = ends[-1] if ends else paragraph.rfind(" ", start + 1, limit) + 1 or limit
        yield paragraph[start:cut]
        start = cut
    yield paragraph[start:]


def split_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, stripped, none empty, none lost."""
    paragraph = paragraph.strip()
    if not paragraph:
        return []
    return _reattach_closing_quotes(
        [sentence for window in windows(paragraph) for sentence in _split_window(window)]
    )


def _split_window(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    sentences = [piece for segment in _segment(text) for piece in _split_quotation(segment)]
    # pySBD rewrites some odd inputs; if its pieces do not add up to the text, keep the text
    # whole (the length limit still applies) rather than lose or invent text.
    if _squeeze("".join(sentences)) != _squeeze(text):
        return [text]
    return sentences


def needs_model(segment: str) -> bool:
    """False for segments with nothing to translate (punctuation, symbols), which opus-mt
    turns into hallucinated sentences; those are passed through unchanged."""
    return any(ch.isalnum() for ch in segment)


# Where a long sentence is best cut, from most to least natural.
_CLAUSE_BREAKS = (
    re.compile(r"(?<=[;:])\s+"),
    re.compile(r"\s+(?=[-–—]\s)"),
    re.compile(r"(?<=,)\s+"),
    re.compile(r"\s+"),
)


def fit_to_limit(sentence: str, count_tokens: TokenCounter, max_tokens: int) -> list[str]:
    """Split `sentence` into consecutive pieces of at most `max_tokens` tokens each."""
    if len(sentence) <= 1 or count_tokens([sentence])[0] <= max_tokens:
        return [sentence]
    left, right = _cut_near_middle(sentence)
    return fit_to_limit(left, count_tokens, max_tokens) + fit_to_limit(
        right, count_tokens, max_tokens
    )


def _cut_near_middle(text: str) -> tuple[str, str]:
    middle = len(text) / 2
    for pattern in _CLAUSE_BREAKS:
        cuts = [m for m in pattern.finditer(text) if m.start() > 0 and m.end() < len(text)]
        # A clause break far from the middle would leave one side nearly as long as before.
        cuts = [m for m in cuts if abs(m.start() - middle) <= len(text) / 4] or (
            cuts if pattern is _CLAUSE_BREAKS[-1] else []
        )
        if cuts:
            best = min(cuts, key=lambda m: abs(m.start() - middle))
            return text[: best.start()], text[best.end() :]
    cut = max(1, len(text) // 2)
    return text[:cut], text[cut:]


def fit_sentences(sentences: list[str], count_tokens: TokenCounter, max_tokens: int) -> list[str]:
    """Apply `fit_to_limit` to each sentence, counting all of them in one call first."""
    counts = count_tokens(sentences)
    fitted: list[str] = []
    for sentence, count in zip(sentences, counts, strict=True):
        if count <= max_tokens:
            fitted.append(sentence)
        else:
            fitted.extend(fit_to_limit(sentence, count_tokens, max_tokens))
    return fitted
