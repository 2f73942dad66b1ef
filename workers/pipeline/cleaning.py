"""Clean a scraped article: metadata, scraper debris, lost spaces, and repeated sentences.

Scrapers hand us a `date` prefix glued to the first sentence, a title line, video-player and
copyright lines with their photo captions, navigation (`Meest gelezen`, `Lees ook: ...`), full
stops that lost their space (`het.De`), and often the whole body a second time glued into one
paragraph. Everything dropped is recorded in `removed` with a reason, so it can be audited.
"""

from __future__ import annotations

import re
import unicodedata

from workers.errors import EmptyArticleError
from workers.pipeline.article import CleanArticle, Paragraphs, RawDocument, Removed
from workers.pipeline.splitting import needs_model, split_sentences

_DATE_PREFIX = re.compile(
    r"\A\s*date\s+(?P<date>\d{4}-\d{2}(?:-\d{2})?)(?=\s|\Z)\s*", re.IGNORECASE
)
_SPACES = re.compile(r"[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")

_VIDEO = re.compile(
    r"^(videospeler( inladen)?|video ?(afspelen|laden|inladen|bekijken)|"
    r"bekijk (hier )?de video|speel (de )?video af)\W*$",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    r"^(copyright\b|©|\(c\)\s).{0,200}$"
    r"|^.{0,200}\b(all rights reserved|alle rechten voorbehouden)\W*$",
    re.IGNORECASE,
)
_PHOTO_CREDIT = re.compile(
    r"^(foto|foto's|beeld|fotografie|illustratie|archieffoto|video)\s*[:©|]\s*\S.{0,80}$",
    re.IGNORECASE,
)
_RELATED = re.compile(r"^(lees|bekijk|zie|luister|kijk) (ook|meer)\b.{0,300}$", re.IGNORECASE)
_NAVIGATION = {
    "meest gelezen", "meest bekeken", "lees meer", "lees verder", "deel dit artikel", "delen",
    "advertentie", "reclame", "meer nieuws", "gerelateerde artikelen", "volg ons", "nieuwsbrief",
    "reageer", "reacties", "tip de redactie", "lees ook", "bekijk ook", "ook interessant",
    "naar boven", "terug naar boven", "print", "deel", "share",
}  # fmt: skip
# Debris glued onto the end of a paragraph once its full stop lost the space after it.
_GLUED_TAIL = re.compile(
    r"(?<=[.!?…”\"'’)])\s*(?P<tail>((lees|bekijk|zie|luister|kijk) ook\s*[:\-–—|›»].*"
    r"|meest gelezen|videospeler inladen\W*|lees meer))\s*$",
    re.IGNORECASE,
)
# A full stop (or ! ? …, maybe followed by a closing quote) with no space before a capitalised
# word: `het.De` -> `het. De`. Numbers (100.000), abbreviations (o.a.), acronyms (N.A.V.O.) and
# host names (nu.nl) never match; URL-like tokens are left alone in `_repair_full_stops`.
_GLUED_STOP = re.compile(r"(?<=[^\W_])(?P<stop>[.!?…]+[”’\"')\]]*)(?=[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ])")
_SENTENCE_END = ".!?…:;,"
_CLOSERS = "”’\"')]»"
_TITLE_MAX_CHARS = 150
_CAPTION_MAX_WORDS = 15
_MEDIA_REASONS = {"video player", "copyright notice", "photo credit"}
_TOKEN_REACH = 200


def clean_article(document: RawDocument) -> CleanArticle:
    """Metadata, clean paragraphs of sentences, and the record of what was removed."""
    text = normalize_text(document.text)
    date = document.date
    prefix = _DATE_PREFIX.match(text)
    if prefix:
        date = date or prefix["date"]
        text = text[prefix.end() :]

    removed: list[Removed] = []
    paragraphs = drop_debris(text, removed)
    title = normalize_text(document.title).strip() if document.title else None
    if title and paragraphs and _key(paragraphs[0]) == _key(title):
        paragraphs.pop(0)  # the body restates the title the file format already gave us
    elif not title and len(paragraphs) > 1 and _looks_like_title(paragraphs[0]):
        title = paragraphs.pop(0)

    paragraphs = [_strip_glued_tail(_repair_full_stops(p), removed) for p in paragraphs]
    sentences = drop_repeated_sentences(
        [split_sentences(p) for p in paragraphs], removed, title=title
    )
    if not sentences:
        raise EmptyArticleError(
            f"nothing left to translate after cleaning ({len(removed)} debris lines removed)"
        )
    if not any(needs_model(s) for paragraph in sentences for s in paragraph):
        raise EmptyArticleError("the article holds no words, only punctuation and symbols")
    return CleanArticle(title=title or None, date=date, paragraphs=sentences, removed=removed)


def normalize_text(text: str) -> str:
    """NFC, Unix newlines, plain spaces, no invisible characters, no trailing blanks."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _SPACES.sub(" ", text))
    return "\n".join(line.rstrip() for line in text.split("\n"))


def drop_debris(text: str, removed: list[Removed]) -> list[str]:
    """The paragraphs of `text` without debris lines (recorded in `removed`); linear time."""
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        reasons = [_debris_reason(line) for line in lines]
        for i, line in enumerate(lines):
            neighbours = reasons[max(0, i - 1) : i] + reasons[i + 1 : i + 2]
            if reasons[i] is None and _MEDIA_REASONS & set(neighbours) and _is_caption(line):
                reasons[i] = "photo caption"
        kept = []
        for line, reason in zip(lines, reasons, strict=True):
            if reason is None:
                kept.append(line)
            else:
                removed.append(Removed(text=line, reason=reason))
        paragraphs += _join_wrapped_lines(kept)
    return paragraphs


def _debris_reason(line: str) -> str | None:
    if _VIDEO.match(line):
        return "video player"
    if _COPYRIGHT.match(line):
        return "copyright notice"
    if _PHOTO_CREDIT.match(line):
        return "photo credit"
    if line.rstrip(" .:›»|").casefold() in _NAVIGATION:
        return "navigation"
    if _RELATED.match(line):
        return "related link"
    return None


def _ends_sentence(line: str) -> bool:
    return line.rstrip(_CLOSERS)[-1:] in tuple(_SENTENCE_END)


def _is_caption(line: str) -> bool:
    return len(line.split()) <= _CAPTION_MAX_WORDS and not _ends_sentence(line)


def _looks_like_title(line: str) -> bool:
    return len(line) <= _TITLE_MAX_CHARS and not _ends_sentence(line)


def _join_wrapped_lines(lines: list[str]) -> list[str]:
    """Each line is a paragraph, except a hard-wrapped line: one that stops mid-sentence
    before a line starting in lower case continues on that line."""
    paragraphs: list[str] = []
    for line in lines:
        if paragraphs and not _ends_sentence(paragraphs[-1]) and line[0].islower():
            paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
    return paragraphs


def _repair_full_stops(paragraph: str) -> str:
    def repair(match: re.Match[str]) -> str:
        # The token around the stop, looked for within a bounded reach so that a paragraph
        # with no spaces costs linear time, not quadratic.
        reach = max(0, match.start() - _TOKEN_REACH)
        start = max(paragraph.rfind(" ", reach, match.start()) + 1, reach)
        end = paragraph.find(" ", match.end(), match.end() + _TOKEN_REACH)
        token = paragraph[start : end if end != -1 else match.end() + _TOKEN_REACH].casefold()
        if "://" in token or token.startswith("www.") or "@" in token:
            return match.group(0)
        return match["stop"] + " "

    return _GLUED_STOP.sub(repair, paragraph)


def _strip_glued_tail(paragraph: str, removed: list[Removed]) -> str:
    tail = _GLUED_TAIL.search(paragraph)
    if tail is None or tail.start() == 0:
        return paragraph
    removed.append(
        Removed(text=tail["tail"], reason=_debris_reason(tail["tail"]) or "related link")
    )
    return paragraph[: tail.start()].rstrip()


def _key(sentence: str) -> str:
    """What two sentences must share to count as the same: their words, case-folded."""
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", sentence).casefold()))


def drop_repeated_sentences(
    paragraphs: Paragraphs, removed: list[Removed], *, title: str | None = None
) -> Paragraphs:
    """Drop every sentence that already occurred earlier (the title counts as earlier)."""
    seen = {_key(title)} if title else set()
    result = []
    for paragraph in paragraphs:
        kept = []
        for sentence in paragraph:
            key = _key(sentence)
            if key and key in seen:
                removed.append(Removed(text=sentence, reason="repeated sentence"))
                continue
            seen.add(key)
            kept.append(sentence)
        if kept:
            result.append(kept)
    return result
