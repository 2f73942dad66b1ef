"""Short texts for the LibreTranslate and DeepL protocols: answered while the client waits.

A toot or a chat message must not pay for a summary or wait behind a queue of long articles:
it goes to a queue of its own (`vertaal-short`), which a worker of its own takes, and the
request waits a bounded time (VERTAAL_SHORT_WAIT) for the answer. Both protocols go through
here and through the same workers, models and sentence cache as every job: there is no
second translation path.

Each text of a request is looked at on its own (`languages`): Dutch goes to the model;
English, and text without letters, come back as they are; the doors refuse other languages
in their own words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from service.context import Services
from workers import replies
from workers.celery_app import send_texts
from workers.errors import ArticleTooLargeError, UndecodableError, VertaalError, error_from_code
from workers.operations.keys import ApiKey, KeyStore
from workers.pipeline.language import SOURCE, TARGET, Identified, identify
from workers.pipeline.splitting import needs_model


class TooLongError(ArticleTooLargeError):
    code = "too_long"


class NoAnswerError(VertaalError):
    """No worker answered within the wait: busy, or none running."""

    code = "no_answer"
    http_status = 503


# One flag of a checked sentence (workers/pipeline/checks): {"code": ..., "message": ...}.
CheckFlag = dict[str, str]


@dataclass(frozen=True)
class ShortResult:
    texts: list[str]
    summary: str | None
    # Per text, the flags of its translated sentences (none for a text given back as it is).
    checks: list[list[CheckFlag]] | None = None


def check_size(services: Services, texts: Sequence[str]) -> int:
    """The characters of all the texts; TooLongError above the limit, UndecodableError for a
    text that is not valid Unicode (JSON can carry a lone UTF-16 surrogate)."""
    check_unicode(texts)
    size = sum(len(text) for text in texts)
    limit = services.settings.short_max_chars
    if size > limit:
        raise TooLongError(f"the request holds {size:,} characters; the limit is {limit:,}")
    return size


def languages(
    texts: Sequence[str], source: str | None, read: Callable[[str], str] = str
) -> list[Identified]:
    """Each text's language: identified (in what `read` finds to translate in it: the text
    of HTML, the untranslated parts of XML left out) when `source` is None, else `source` as
    the client says (as DeepL and LibreTranslate take it). A text without letters has none
    either way."""
    found = []
    for text in texts:
        visible = read(text)
        if source is None:
            found.append(identify(visible))
        elif any(ch.isalpha() for ch in visible):
            found.append(Identified(source, 100.0))
        else:
            found.append(Identified(None, 0.0))
    return found


def first_refused(found: Sequence[Identified]) -> Identified | None:
    """The first text in a language Vertaal neither translates nor gives back (not Dutch,
    not English, not without letters): the doors refuse the request, naming it."""
    return next((f for f in found if f.code not in (SOURCE, TARGET, None)), None)


def translate_some(
    services: Services,
    texts: Sequence[str],
    chosen: Sequence[bool],
    *,
    html: bool,
    summary: bool = False,
    glossary: str | None = None,
) -> ShortResult:
    """The texts, the chosen ones translated (in one round trip) and the rest as they are."""
    wanted = [text for text, pick in zip(texts, chosen, strict=True) if pick]
    done = (
        translate_short(services, wanted, html=html, summary=summary, glossary=glossary)
        if wanted
        else None
    )
    translated = iter(done.texts if done else [])
    flagged = iter((done.checks or []) if done else [])
    out = [next(translated) if pick else text for text, pick in zip(texts, chosen, strict=True)]
    checks = [next(flagged, []) if pick else [] for pick in chosen]
    return ShortResult(out, done.summary if done else None, checks)


def translate_short(
    services: Services,
    texts: Sequence[str],
    *,
    html: bool,
    summary: bool = False,
    glossary: str | None = None,
) -> ShortResult:
    """The texts translated by a short-text worker, waiting for it (NoAnswerError after the
    wait), with the glossary version `glossary` (a digest) enforced when there is one."""
    if not any(needs_model(text) for text in texts) and not summary:
        return ShortResult(list(texts), None)  # nothing to translate: no round trip
    wait = services.settings.short_wait
    reply_to = replies.new_reply_to()
    send_texts(
        services.celery, reply_to, list(texts), html=html, summary=summary, wait=wait,
        glossary=glossary,
    )  # fmt: skip
    answer = replies.wait(services.queue, reply_to, wait)
    if answer is None:
        services.metrics.count("vertaal_short_requests", outcome="no_answer")
        raise NoAnswerError(
            f"no worker answered within {wait:g} seconds: the service is busy (or has no "
            "worker for short texts); try again shortly"
        )
    if "error" in answer:
        services.metrics.count("vertaal_short_requests", outcome="failed")
        raise error_from_code(answer["error"]["code"], answer["error"]["message"])
    services.metrics.count("vertaal_short_requests", outcome="answered")
    return ShortResult(list(answer["texts"]), answer.get("summary"), answer.get("checks"))


def check_unicode(texts: Sequence[str]) -> None:
    for number, text in enumerate(texts, 1):
        try:
            text.encode()
        except UnicodeEncodeError as error:
            raise UndecodableError(
                f"text {number} holds an unpaired UTF-16 surrogate at character {error.start}; "
                "send valid Unicode"
            ) from None


@contextmanager
def billed(services: Services, key: ApiKey | None, characters: int) -> Iterator[None]:
    """Hold `characters` against the request's key while its texts are translated: refused
    before any work (QuotaExceededError) when they do not fit what is left of its quota, and
    given back whole if no translation comes."""
    keys = KeyStore(services.queue)
    reservation = keys.reserve(key, characters) if key is not None and characters else None
    try:
        yield
    except BaseException:
        if reservation is not None:
            keys.release(reservation)
        raise
