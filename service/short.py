"""Short texts for the LibreTranslate and DeepL protocols: answered while the client waits.

A toot or a chat message must not pay for a summary or wait behind a queue of long articles:
it goes to a queue of its own (`vertaal-short`), which a worker of its own takes, and the
request waits a bounded time (VERTAAL_SHORT_WAIT) for the answer. Both protocols go through
here and through the same workers, models and sentence cache as every job: there is no
second translation path.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.context import Services
from workers import replies
from workers.celery_app import send_texts
from workers.errors import ArticleTooLargeError, UndecodableError, VertaalError, error_from_code
from workers.operations.keys import ApiKey, KeyStore
from workers.pipeline.language import detect
from workers.pipeline.splitting import needs_model


class TooLongError(ArticleTooLargeError):
    code = "too_long"


class NoAnswerError(VertaalError):
    """No worker answered within the wait: busy, or none running."""

    code = "no_answer"
    http_status = 503


@dataclass(frozen=True)
class ShortResult:
    texts: list[str]
    summary: str | None


def check_size(services: Services, texts: list[str]) -> int:
    """The characters of all the texts; TooLongError above the limit, UndecodableError for a
    text that is not valid Unicode (JSON can carry a lone UTF-16 surrogate)."""
    for number, text in enumerate(texts, 1):
        try:
            text.encode()
        except UnicodeEncodeError as error:
            raise UndecodableError(
                f"text {number} holds an unpaired UTF-16 surrogate at character {error.start}; "
                "send valid Unicode"
            ) from None
    size = sum(len(text) for text in texts)
    limit = services.settings.short_max_chars
    if size > limit:
        raise TooLongError(f"the request holds {size:,} characters; the limit is {limit:,}")
    return size


def detected(texts: list[str]) -> tuple[str, float]:
    """The language of the texts together (Dutch or English) and the confidence (0-100)."""
    ranking = detect(" ".join(texts)[:2000])
    return ranking[0] if ranking else ("nl", 0.0)


def translate_short(
    services: Services,
    texts: list[str],
    *,
    html: bool,
    summary: bool = False,
    key: ApiKey | None = None,
) -> ShortResult:
    """The texts translated by a worker while the request waits. With a key, their size is
    reserved against its quota first (QuotaExceededError when it does not fit), and given
    back if no translation comes."""
    size = check_size(services, texts)
    if not any(needs_model(text) for text in texts) and not summary:
        return ShortResult(list(texts), None)  # nothing to translate: no round trip
    keys = KeyStore(services.queue)
    reservation = keys.reserve(key, size) if key is not None else None
    try:
        return _answered(services, texts, html=html, summary=summary)
    except BaseException:
        if reservation is not None:
            keys.release(reservation)
        raise


def _answered(services: Services, texts: list[str], *, html: bool, summary: bool) -> ShortResult:
    wait = services.settings.short_wait
    reply_to = replies.new_reply_to()
    send_texts(services.celery, reply_to, texts, html=html, summary=summary, wait=wait)
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
    return ShortResult(list(answer["texts"]), answer.get("summary"))
