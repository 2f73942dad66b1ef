"""Cache keys and the result and sentence caches, against a real Redis."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.cache import ResultCache, SentenceCache, article_key, content_digest, dedupe_key
from workers.connections import redis_client
from workers.jobs.record import JobOptions
from workers.pipeline.article import Models, Result, Source, SourceFile, Translation

SIGNATURE = {"translation": {"model": "m", "revision": "r1"}, "max_sentence_tokens": 200}


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_article_key_ignores_what_cannot_change_a_result(text: str) -> None:
    key = article_key(SIGNATURE, content_digest(SourceFile.pasted(text)), JobOptions())
    variants = [
        text.replace("\n", "\r\n"),
        unicodedata.normalize("NFD", text),
        text + "  \n",
    ]
    for variant in variants:
        assert (
            article_key(SIGNATURE, content_digest(SourceFile.pasted(variant)), JobOptions()) == key
        )


def test_article_key_follows_models_options_and_text() -> None:
    document = content_digest(SourceFile.pasted("De NAVO praat met Rusland."))
    key = article_key(SIGNATURE, document, JobOptions())
    upgraded = {**SIGNATURE, "translation": {"model": "m", "revision": "r2"}}
    assert article_key(upgraded, document, JobOptions()) != key
    assert article_key(SIGNATURE, document, JobOptions(summary=False)) != key
    assert (
        article_key(SIGNATURE, content_digest(SourceFile.pasted("De NAVO praat.")), JobOptions())
        != key
    )
    assert dedupe_key(document, JobOptions()) != dedupe_key(
        document, JobOptions(JobOptions(summary=False))
    )


def result() -> Result:
    return Result(
        source=Source(title=None, date=None, paragraphs=[["Zin."]]),
        translation=Translation(title=None, paragraphs=[["Sentence."]]),
        summary="Sum.",
        removed=[],
        models=Models(translation="m", summary="s"),
        timings={"total": 1.0},
    )


def test_results_round_trip_with_a_ttl(redis_db: str) -> None:
    client = redis_client(redis_db)
    cache = ResultCache(client, ttl=120)
    cache.put("vertaal:result:test", result())
    assert cache.get("vertaal:result:test") == result()
    assert 0 < client.ttl("vertaal:result:test") <= 120
    assert cache.get("vertaal:result:other") is None


def test_sentences_are_kept_only_once_flushed(redis_db: str) -> None:
    client = redis_client(redis_db)
    cache = SentenceCache(client, SIGNATURE["translation"], ttl=120)
    cache.set_many({"Zin.": "Sentence."})
    assert SentenceCache(client, SIGNATURE["translation"], 120).get_many(["Zin."]) == {}
    cache.flush()
    assert SentenceCache(client, SIGNATURE["translation"], 120).get_many(["Zin."]) == {
        "Zin.": "Sentence."
    }
    other_model = SentenceCache(client, {"model": "m", "revision": "r2"}, 120)
    assert other_model.get_many(["Zin."]) == {}
