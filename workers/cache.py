"""Cache keys and Redis access for article results and single sentences.

An article's key hashes its normalised text with everything that decides the result: model ids
and revisions, generation settings, the summary option and the pipeline version. Workers
publish that model signature when they start, so the web process can look results up without
ever loading (or even seeing) a model. Values are zlib-compressed JSON with a TTL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import unicodedata
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import redis

from workers.connections import RedisUnavailable
from workers.errors import VertaalError
from workers.jobs.record import JobOptions
from workers.operations.metrics import MetricsRecorder
from workers.pipeline.article import Result, SourceFile
from workers.pipeline.reading import TEXT_SUFFIXES, suffix_of
from workers.pipeline.run import PIPELINE_VERSION

log = logging.getLogger(__name__)

RESULT_PREFIX = f"vertaal:result:v{PIPELINE_VERSION}:"
SENTENCE_PREFIX = f"vertaal:sentence:v{PIPELINE_VERSION}:"
SIGNATURE_KEY = "vertaal:worker-signature"


def _digest(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def canonical_text(text: str) -> str:
    """`text` with differences that cannot change a result taken out: Unicode forms (NFC),
    line endings, and blanks around the whole. The cleaner removes more (odd spaces, blanks
    at line ends); keys need not merge every variant, only never merge two texts that differ.
    Two C-speed passes: a web request runs it on up to a megabyte."""
    text = unicodedata.normalize("NFC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def content_digest(source: SourceFile) -> str:
    """Identifies an article's content: text formats by their canonical text, other formats
    by their bytes. Computed once per submission."""
    suffix = suffix_of(source.name)
    if suffix in TEXT_SUFFIXES:
        text = source.decoded()
        canonical = canonical_text(text)
        # Text that was canonical already is hashed from the bytes it came as.
        data = source.data if canonical is text and source.text is text else canonical.encode()
        return _digest({"format": suffix, "text": hashlib.sha256(data).hexdigest()})
    return _digest({"format": suffix, "bytes": hashlib.sha256(source.data).hexdigest()})


def dedupe_key(
    content: str, options: JobOptions, owner: Mapping[str, str | None] | None = None
) -> str:
    """Identifies a submission (by its `content_digest`, options, and who sent it where):
    two equal ones while the first is active share one job."""
    return _digest({"document": content, "options": asdict(options), "owner": owner or {}})


def article_key(signature: Mapping[str, Any], content: str, options: JobOptions) -> str:
    """Where the result for this article (its `content_digest`), under these model settings
    and options that change it (summary, markup), is cached."""
    return RESULT_PREFIX + _digest(
        {
            "document": content,
            "summary": options.summary,
            "markup": options.markup,
            "glossary": options.glossary,
            "signature": dict(signature),
        }
    )


def publish_signature(client: redis.Redis, signature: Mapping[str, Any]) -> None:
    """Tell the web process what the workers produce (no TTL: it describes the deployment)."""
    client.set(SIGNATURE_KEY, json.dumps(dict(signature), sort_keys=True))


def published_signature(client: redis.Redis) -> dict[str, Any] | None:
    data = client.get(SIGNATURE_KEY)
    return json.loads(data) if data else None


class CacheUnavailableError(VertaalError):
    """The cache's Redis does not answer: named as such, never mistaken for the job queue."""

    code = "cache_unavailable"
    http_status = 503


def _where(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"


@contextmanager
def _answering(client: redis.Redis) -> Iterator[None]:
    try:
        yield
    except RedisUnavailable as error:
        raise CacheUnavailableError(
            f"the result cache (Redis at {_where(client)}) is not answering; try again shortly"
        ) from error


class ResultCache:
    """Whole-article results. A cache that does not answer raises CacheUnavailableError."""

    def __init__(self, client: redis.Redis, ttl: int) -> None:
        self.redis = client
        self.ttl = ttl

    def get(self, key: str) -> Result | None:
        with _answering(self.redis):
            data = self.redis.get(key)
        return Result.from_dict(json.loads(zlib.decompress(data))) if data else None

    def put(self, key: str, result: Result) -> bool:
        """Store `result` unless the key holds one already; True if this call stored it."""
        packed = zlib.compress(json.dumps(result.to_dict(), ensure_ascii=False).encode())
        with _answering(self.redis):
            return bool(self.redis.set(key, packed, ex=self.ttl, nx=True))

    def has(self, key: str) -> bool:
        with _answering(self.redis):
            return bool(self.redis.exists(key))

    def delete(self, key: str) -> None:
        with _answering(self.redis):
            self.redis.delete(key)


class SentenceCache:
    """Translations of single sentences under one translation signature.

    New translations are held back until `flush`, which the task calls only when the whole
    article succeeded: a cancelled or failed job leaves nothing behind in the cache.
    """

    def __init__(
        self,
        client: redis.Redis,
        signature: Mapping[str, Any],
        ttl: int,
        metrics: MetricsRecorder | None = None,
    ) -> None:
        self.redis = client
        self.ttl = ttl
        self.metrics = metrics
        self.prefix = SENTENCE_PREFIX + _digest(dict(signature))[:16] + ":"
        self.pending: dict[str, str] = {}

    def _key(self, sentence: str) -> str:
        return self.prefix + hashlib.sha256(sentence.encode()).hexdigest()

    def get_many(self, sentences: Sequence[str]) -> dict[str, str]:
        """Cached translations: this job's own not yet flushed, then Redis's."""
        held = {s: self.pending[s] for s in sentences if s in self.pending}
        sentences = [s for s in sentences if s not in held]
        if not sentences:
            return held
        try:
            values = self.redis.mget([self._key(s) for s in sentences])
        except RedisUnavailable:
            log.warning("sentence cache unavailable; translating every sentence")
            return held
        found = {s: v.decode() for s, v in zip(sentences, values, strict=True) if v is not None}
        if self.metrics is not None:
            lookups = "vertaal_cache_lookups"
            self.metrics.count(lookups, len(found), level="sentence", result="hit")
            self.metrics.count(
                lookups, len(sentences) - len(found), level="sentence", result="miss"
            )
        return found

    def set_many(self, translations: Mapping[str, str]) -> None:
        self.pending.update(translations)

    def flush(self) -> None:
        """Store what this job translated; a cache that cannot take it loses only speed."""
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                for sentence, translation in self.pending.items():
                    pipe.set(self._key(sentence), translation, ex=self.ttl)
                pipe.execute()
        except redis.RedisError as error:
            log.warning("%d sentences not cached: %s", len(self.pending), error)
        self.pending.clear()
