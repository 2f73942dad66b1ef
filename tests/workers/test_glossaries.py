"""Glossaries in Redis: owned, versioned by content, pinned by the jobs sent with them."""

import pytest

from service import create_app
from tests.conftest import TinyModels, run_queued_job, settings_for, user_of
from tests.service.test_api import unique_article
from workers.cache import article_key
from workers.connections import redis_client
from workers.glossaries import CONTENT, GLOBAL, GlossaryNotFoundError, GlossaryStore
from workers.jobs.record import JobOptions
from workers.jobs.store import job_store
from workers.pipeline.checks.sentence import Check
from workers.pipeline.terms.glossary import Glossary


def test_a_glossary_is_its_owners_and_a_global_one_everyones(redis_db: str) -> None:
    store = GlossaryStore(redis_client(redis_db), job_ttl=60)
    mine = store.create(Glossary.from_tsv("huis", "kabinet\tcabinet\n"), "key:a")
    shared = store.create(Glossary.from_tsv("namen", "Poetin\tPutin\n"), GLOBAL)
    assert store.usable(mine.id, "key:a") == mine
    with pytest.raises(GlossaryNotFoundError):
        store.usable(mine.id, "key:b")
    assert store.usable(shared.id, "key:b") == shared
    assert [g.id for g in store.visible_to("key:b")] == [shared.id]
    assert {g.id for g in store.visible_to("key:a")} == {mine.id, shared.id}


def test_a_changed_glossary_is_a_new_version_and_the_old_one_stays_for_its_jobs(
    redis_db: str,
) -> None:
    client = redis_client(redis_db)
    store = GlossaryStore(client, job_ttl=60)
    first = store.create(Glossary.from_tsv("huis", "kabinet\tcabinet\n"), "key:a")
    second = store.replace(first, Glossary.from_tsv("huis", "kabinet\tgovernment\n"))
    assert second.id == first.id and second.digest != first.digest
    assert store.entries(first.digest) is not None, "a job sent with it can still run"
    assert 0 < client.ttl(CONTENT + first.digest) <= 60, "but only as long as such a job lives"
    assert client.ttl(CONTENT + second.digest) == -1, "the held version does not expire"
    store.delete(second)
    assert store.get(first.id) is None and 0 < client.ttl(CONTENT + second.digest) <= 60


def test_a_job_with_a_glossary_pins_its_version_and_its_cache_key(
    redis_db: str, tiny_models: TinyModels
) -> None:
    settings = settings_for(tiny_models, redis_url=redis_db, threads=1, summary=False)
    app = create_app(settings.model_dump())
    sender = user_of(app)
    text = unique_article(3, seed=700)
    first = sender.post("/api/v1/jobs", json={"text": unique_article(1, seed=701)}).get_json()
    owner = job_store(settings).get(first["id"]).owner  # type: ignore[union-attr]
    assert owner is not None
    store = GlossaryStore(redis_client(redis_db), job_ttl=60)
    entries = "minister\tminister\noppositie\topposition\n"
    glossary = store.create(Glossary.from_tsv("huis", entries), owner)
    other = app.test_client().post("/api/v1/jobs", json={"text": text, "glossary_id": glossary.id})
    assert other.status_code == 404, "another sender cannot use it"
    assert other.get_json()["error"]["code"] == "glossary_not_found"
    answer = sender.post("/api/v1/jobs", json={"text": text, "glossary_id": glossary.id})
    assert answer.status_code == 202, answer.get_json()
    job = job_store(settings).get(answer.get_json()["id"])
    assert job is not None and job.options.glossary == glossary.digest
    run_queued_job(job.id, settings)
    done = sender.get(f"/api/v1/jobs/{job.id}").get_json()
    assert done["status"] == "done", done
    codes = {f["code"] for p in done["result"]["checks"]["paragraphs"] for s in p for f in s}
    assert Check.TERM_MISSING.value in codes, "the tiny model's gibberish lost the terms"
    plain = JobOptions()
    assert article_key({}, "x", plain) != article_key({}, "x", job.options)
