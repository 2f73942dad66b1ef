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
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import redis

from workers.connections import RedisUnavailable
from workers.job_record import JobOptions
from workers.pipeline.article import RawDocument, Result
from workers.pipeline.cleaning import normalize_text
from workers.pipeline.run import PIPELINE_VERSION

log = logging.getLogger(__name__)

RESULT_PREFIX = f"vertaal:result:v{PIPELINE_VERSION}:"
SENTENCE_PREFIX = f"vertaal:sentence:v{PIPELINE_VERSION}:"
SIGNATURE_KEY = "vertaal:worker-signature"


def _digest(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def _canonical(document: RawDocument) -> dict[str, Any]:
    """The document with the differences that cannot change a result (CRLF, NFC, trailing
    blanks) taken out."""
    return {
        "text": normalize_text(document.text).strip(),
        "title": normalize_text(document.title).strip() if document.title else None,
        "date": document.date,
    }


def dedupe_key(document: RawDocument, options: JobOptions) -> str:
    """Identifies a submission: two equal ones while the first is active share one job."""
    return _digest({"document": _canonical(document), "options": asdict(options)})


def article_key(signature: Mapping[str, Any], document: RawDocument, summary: bool) -> str:
    """Where the result for this document, under these model settings, is cached."""
    return RESULT_PREFIX + _digest(
        {"document": _canonical(document), "summary": summary, "signature": dict(signature)}
    )


def publish_signature(client: redis.Redis, signature: Mapping[str, Any]) -> None:
    """Tell the web process what the workers produce (no TTL: it describes the deployment)."""
    client.set(SIGNATURE_KEY, json.dumps(dict(signature), sort_keys=True))


def published_signature(client: redis.Redis) -> dict[str, Any] | None:
    data = client.get(SIGNATURE_KEY)
    return json.loads(data) if data else None


class ResultCache:
    """Whole-article results."""

    def __init__(self, client: redis.Redis, ttl: int) -> None:
        self.redis = client
        self.ttl = ttl

    def get(self, key: str) -> Result | None:
        data = self.redis.get(key)
        return Result.from_dict(json.loads(zlib.decompress(data))) if data else None

    def put(self, key: str, result: Result) -> None:
        packed = zlib.compress(json.dumps(result.to_dict(), ensure_ascii=False).encode())
        self.redis.set(key, packed, ex=self.ttl)


class SentenceCache:
    """Translations of single sentences under one translation signature.

    New translations are held back until `flush`, which the task calls only when the whole
    article succeeded: a cancelled or failed job leaves nothing behind in the cache.
    """

    def __init__(self, client: redis.Redis, signature: Mapping[str, Any], ttl: int) -> None:
        self.redis = client
        self.ttl = ttl
        self.prefix = SENTENCE_PREFIX + _digest(dict(signature))[:16] + ":"
        self.pending: dict[str, str] = {}

    def _key(self, sentence: str) -> str:
        return self.prefix + hashlib.sha256(sentence.encode()).hexdigest()

    def get_many(self, sentences: Sequence[str]) -> dict[str, str]:
        if not sentences:
            return {}
        try:
            values = self.redis.mget([self._key(s) for s in sentences])
        except RedisUnavailable:
            log.warning("sentence cache unavailable; translating every sentence")
            return {}
        return {s: v.decode() for s, v in zip(sentences, values, strict=True) if v is not None}

    def set_many(self, translations: Mapping[str, str]) -> None:
        self.pending.update(translations)

    def flush(self) -> None:
        with self.redis.pipeline(transaction=False) as pipe:
            for sentence, translation in self.pending.items():
                pipe.set(self._key(sentence), translation, ex=self.ttl)
            pipe.execute()
        self.pending.clear()
