"""The faults an attacker found, each answered as it should be: 400s for malformed callbacks
and broken Unicode on every door, a cache that is down named as the cache (and not needed by
the short path), downloads of any name, callbacks that cannot reach loopback through an IPv6
form, and a running set that never keeps a job that is gone."""

import threading

import pytest
from flask import Flask
from werkzeug.http import parse_options_header

from service import create_app
from service.downloads import content_disposition
from tests.conftest import TinyModels, settings_for
from tests.processes import free_port
from tests.service.test_api import unique_article
from workers.connections import redis_client
from workers.jobs.layout import RUNNING
from workers.jobs.leases import Leases
from workers.operations.webhooks import CallbackRefusedError, embedded_ipv4, resolve_callback
from workers.translating import translate_texts


@pytest.fixture
def signed(redis_db: str) -> Flask:
    return create_app({"redis_url": redis_db, "webhook_secret": "s3cret"})


@pytest.mark.parametrize(
    "url", ["http://[x", "http://example.org:99999/", "http://example.org:abc/", "http://h:0/"]
)
def test_a_malformed_callback_url_is_a_400(signed: Flask, url: str) -> None:
    body = {"text": unique_article(2, seed=600), "callback_url": url}
    answer = signed.test_client().post("/api/v1/jobs", json=body)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"]["code"] == "callback_refused"


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1::a00:1",  # local-use NAT64 of 10.0.0.1
        "::127.0.0.1",  # IPv4-compatible
        "::ffff:127.0.0.1",  # IPv4-mapped
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, its client behind 192.0.2.45
    ],
)
def test_ipv6_forms_of_private_ipv4_addresses_are_refused(address: str) -> None:
    with pytest.raises(CallbackRefusedError, match="non-public"):
        resolve_callback(f"http://[{address}]/hook", allow="")


def test_an_ipv6_form_of_a_public_address_is_allowed() -> None:
    import ipaddress

    public = ipaddress.ip_address("64:ff9b::808:808")
    assert [str(a) for a in embedded_ipv4(public)] == ["8.8.8.8"]
    assert resolve_callback("http://[64:ff9b::808:808]/hook", allow="").address


@pytest.mark.parametrize("path", ["/translate", "/v2/translate", "/detect"])
def test_a_lone_surrogate_is_a_400_on_every_door(redis_db: str, path: str) -> None:
    client = create_app({"redis_url": redis_db}).test_client()
    body = {"q": "Goed\ud800 nieuws", "source": "nl", "target": "en"}
    if path == "/v2/translate":
        body = {"text": ["Goed\ud800 nieuws"], "target_lang": "EN-GB"}
    answer = client.post(path, json=body)
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert "surrogate" in answer.get_data(as_text=True)


def test_with_the_cache_down_the_api_names_the_cache_and_still_cancels(redis_db: str) -> None:
    port = free_port()
    app = create_app({"redis_url": redis_db, "cache_url": f"redis://127.0.0.1:{port}/0"})
    client = app.test_client()
    created = client.post("/api/v1/jobs", json={"text": unique_article(2, seed=610)})
    assert created.status_code == 202, "the cache is an optimisation: the job is queued"
    job_id = created.get_json()["id"]
    store = app.extensions["vertaal"].jobs
    store.redis.hset(f"vertaal:job:{job_id}", "result_key", "vertaal:result:v2:gone")
    store.redis.hset(f"vertaal:job:{job_id}", "status", "done")
    full = client.get(f"/api/v1/jobs/{job_id}")
    assert full.status_code == 503
    assert full.get_json()["error"]["code"] == "cache_unavailable"
    assert f"result cache (Redis at 127.0.0.1:{port})" in full.get_json()["error"]["message"]
    assert client.get(f"/api/v1/jobs/{job_id}?view=status").status_code == 200
    store.redis.hset(f"vertaal:job:{job_id}", "status", "queued")
    assert client.delete(f"/api/v1/jobs/{job_id}").status_code == 200, "cancel needs no cache"


def test_the_short_path_translates_without_its_cache(
    tiny_models: TinyModels, redis_db: str
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = settings_for(tiny_models, redis_url=redis_db, cache_url=dead)
    done = translate_texts(["Goed nieuws uit Den Haag."], html=False, summary=False,
                           settings=settings)  # fmt: skip
    assert len(done.texts) == 1 and done.texts[0]


@pytest.mark.parametrize("name", ["łódź.txt", "€ report.docx", "新闻.html", "plain.txt", 'a"b.md'])
def test_any_file_name_makes_a_valid_content_disposition(name: str) -> None:
    header = content_disposition(name)
    header.encode("latin-1")  # what gunicorn sends, or refuses to
    assert parse_options_header(header)[1]["filename"] == name, "RFC 6266: filename* wins"
    assert parse_options_header(header.split("; filename*")[0])[1]["filename"].isascii()


def test_jobs_deleted_as_duplicates_never_stay_counted_running(redis_db: str) -> None:
    """A worker batching queued articles claims in the instant a duplicate submission is
    recorded and deleted: it must never take the duplicate."""
    app = create_app({"redis_url": redis_db})
    sender = app.test_client()
    token = sender.post("/api/v1/jobs", json={"text": unique_article(2, seed=620)}).get_json()
    leases = Leases(app.extensions["vertaal"].jobs)
    stop = threading.Event()
    claimed: list[str] = []

    def claim() -> None:
        while not stop.is_set():
            found = leases.claim_queued("greedy", "d", lease=60, count=8, budget=10**7)
            claimed.extend(c.job_id for c in found)

    claimer = threading.Thread(target=claim)
    claimer.start()
    try:
        text = {"text": unique_article(3, seed=621)}
        headers = {"X-Job-Token": token["token"]}

        def submit() -> None:
            for _ in range(5):
                app.test_client().post("/api/v1/jobs", json=text, headers=headers)

        submitters = [threading.Thread(target=submit) for _ in range(6)]
        for thread in submitters:
            thread.start()
        for thread in submitters:
            thread.join()
    finally:
        stop.set()
        claimer.join()
    client = redis_client(redis_db)
    running = {member.decode() for member in client.smembers(RUNNING)}
    assert all(client.exists(f"vertaal:job:{job_id}") for job_id in running), running
    assert all(client.exists(f"vertaal:job:{job_id}") for job_id in claimed)
