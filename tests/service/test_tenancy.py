"""Trust between parties, tried as two users: every job, document, download, page and protocol
result of key A is a 404 to key B and a 401/403 to no key; an operator key reads all; an
anonymous sender's job is its own; quotas are held at submission and never overshoot."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import deepl
import httpx
import pytest
import requests
from flask import Flask

from service import create_app
from tests.processes import Worker, live_server, wait_for
from tests.service.test_api import unique_article
from tests.service.test_auth import bearer, create_key
from tests.service.test_libretranslate import DUTCH
from workers.connections import redis_client
from workers.operations.keys import KeyStore

pytestmark = pytest.mark.slow


@dataclass
class Tenants:
    base: str
    app: Flask
    a: str
    b: str
    operator: str


@pytest.fixture
def tenants(redis_url: str, live_worker: Worker) -> Iterator[Tenants]:
    app = create_app({"redis_url": redis_url, "require_api_key": True})
    _, a = create_key(redis_url)
    _, b = create_key(redis_url)
    _, operator = create_key(redis_url, "--operator")
    with live_server(app) as base:
        yield Tenants(base, app, a, b, operator)


def done(base: str, job_id: str, key: str) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = httpx.get(f"{base}/api/v1/jobs/{job_id}", headers=bearer(key)).json()
        return body if body["status"] in ("done", "failed", "cancelled") else None

    found = wait_for(finished, 90, f"job {job_id}")
    assert isinstance(found, dict)
    return found


def test_another_key_cannot_see_or_touch_a_keys_jobs(tenants: Tenants) -> None:
    base, a, b = tenants.base, tenants.a, tenants.b
    job_id = httpx.post(
        f"{base}/api/v1/jobs", json={"text": unique_article(3, seed=500)}, headers=bearer(a)
    ).json()["id"]
    assert done(base, job_id, a)["status"] == "done"
    paths = [
        f"/api/v1/jobs/{job_id}",
        f"/api/v1/jobs/{job_id}?view=status",
        f"/jobs/{job_id}",
        f"/jobs/{job_id}/status.json",
        f"/jobs/{job_id}/panel",
        f"/jobs/{job_id}/translation.md",
        f"/jobs/{job_id}/result.json",
    ]
    for path in paths:
        assert httpx.get(base + path, headers=bearer(b)).status_code == 404, path
        assert httpx.get(base + path, headers=bearer(a)).status_code == 200, path
        assert httpx.get(base + path, headers=bearer(tenants.operator)).status_code == 200, path
    assert httpx.get(f"{base}/api/v1/jobs/{job_id}").status_code == 401
    assert httpx.delete(f"{base}/api/v1/jobs/{job_id}", headers=bearer(b)).status_code == 404
    operator = httpx.delete(f"{base}/api/v1/jobs/{job_id}", headers=bearer(tenants.operator))
    assert operator.status_code == 404, "an operator reads; only the owner cancels"
    assert httpx.delete(f"{base}/api/v1/jobs/{job_id}", headers=bearer(a)).status_code == 409
    unknown = httpx.get(f"{base}/api/v1/jobs/{'0' * 32}", headers=bearer(b))
    assert unknown.json() == httpx.get(f"{base}/api/v1/jobs/{job_id}", headers=bearer(b)).json() | {
        "error": unknown.json()["error"]
    }, "another key's job looks exactly like no job"


def test_another_key_cannot_poll_or_download_a_keys_document(tenants: Tenants) -> None:
    base = tenants.base
    mine = deepl.Translator(tenants.a, server_url=base)
    theirs = deepl.Translator(tenants.b, server_url=base)
    try:
        handle = mine.translate_document_upload(  # bytes: the client then sends the name
            DUTCH.encode(), target_lang="EN-GB", filename="łódź €.txt"
        )
        wait_for(lambda: mine.translate_document_get_status(handle).done, 90, "the document")
        with pytest.raises(deepl.DeepLException) as seen:
            theirs.translate_document_get_status(handle)
        assert "not found" in str(seen.value).lower(), "another key: as if there were none"
        listed = requests.post(
            f"{base}/v2/document/{handle.document_id}",
            data={"document_key": handle.document_key},
            timeout=10,
        )
        assert listed.status_code == 403, "no key at all"
        download = f"{base}/download_file/{handle.document_id}.x.txt"
        assert requests.get(download, timeout=10).status_code in (401, 403, 404)
        got = requests.post(
            f"{base}/v2/document/{handle.document_id}/result",
            data={"document_key": handle.document_key},
            headers={"Authorization": f"DeepL-Auth-Key {tenants.a}"},
            timeout=10,
        )
        assert got.status_code == 200 and got.content
        disposition = got.headers["Content-Disposition"]
        assert "filename*=UTF-8''%C5%82%C3%B3d%C5%BA%20%E2%82%AC.txt" in disposition
        again = requests.post(
            f"{base}/v2/document/{handle.document_id}/result",
            data={"document_key": handle.document_key},
            headers={"Authorization": f"DeepL-Auth-Key {tenants.a}"},
            timeout=10,
        )
        assert again.status_code == 404, "dropped once downloaded, as DeepL does"
    finally:
        mine.close()
        theirs.close()


def test_a_libretranslate_file_link_opens_only_with_its_own_token(tenants: Tenants) -> None:
    base = tenants.base
    answer = requests.post(
        f"{base}/translate_file",
        files={"file": ("nieuws.txt", DUTCH.encode())},
        data={"source": "nl", "target": "en", "api_key": tenants.a},
        timeout=90,
    )
    assert answer.status_code == 200, answer.text
    link = answer.json()["translatedFileUrl"]
    assert requests.get(link, timeout=10).status_code == 200, "the link is the capability"
    job_id, token, name = link.rsplit("/", 1)[1].split(".", 2)
    forged = f"{base}/download_file/{job_id}.{'x' * len(token)}.{name}"
    assert requests.get(forged, timeout=10).status_code == 404
    assert requests.get(f"{base}/download_file/{job_id}.{name}", timeout=10).status_code == 404


def test_an_anonymous_senders_job_is_its_own(redis_url: str, live_worker: Worker) -> None:
    app = create_app({"redis_url": redis_url})
    sender, stranger = app.test_client(), app.test_client()
    answer = sender.post("/api/v1/jobs", json={"text": unique_article(3, seed=510)}).get_json()
    job_id, token = answer["id"], answer["token"]
    assert sender.get(f"/api/v1/jobs/{job_id}").status_code == 200, "its session's cookie"
    assert stranger.get(f"/api/v1/jobs/{job_id}").status_code == 404, "the id is not enough"
    assert stranger.get(f"/jobs/{job_id}").status_code == 404
    held = stranger.get(f"/api/v1/jobs/{job_id}", headers={"X-Job-Token": token})
    assert held.status_code == 200, "the token reads it"
    assert stranger.delete(f"/api/v1/jobs/{job_id}").status_code == 404


def test_parallel_submissions_never_overshoot_a_quota(redis_db: str) -> None:
    """20 submissions at once on a 500-character key (no worker: nothing is settled yet, so
    what is held is exactly what was accepted)."""
    app = create_app({"redis_url": redis_db, "require_api_key": True})
    key_id, key = create_key(redis_db, "--chars-per-month", "500")
    texts = [unique_article(1, seed=520 + n) for n in range(20)]
    outcomes: list[tuple[int, int]] = []

    def submit(text: str) -> None:
        answer = app.test_client().post("/api/v1/jobs", json={"text": text}, headers=bearer(key))
        outcomes.append((answer.status_code, len(text)))

    threads = [threading.Thread(target=submit, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [size for status, size in outcomes if status == 202]
    refused = [size for status, size in outcomes if status == 403]
    assert accepted and len(accepted) + len(refused) == 20
    used = KeyStore(redis_client(redis_db)).usage(key_id)
    assert used == sum(accepted) <= 500, "held exactly what was accepted: no overshoot"
    assert all(size > 500 - used for size in refused), "and refused only what did not fit"

    fresh_id, fresh = create_key(redis_db, "--chars-per-month", "500")
    big = app.test_client().post(
        "/api/v1/jobs", json={"text": unique_article(1500, seed=530)}, headers=bearer(fresh)
    )
    assert big.status_code == 403 and big.get_json()["error"]["code"] == "quota_exceeded"
    assert KeyStore(redis_client(redis_db)).usage(fresh_id) == 0, "refused before any work"


def test_where_keys_are_required_the_web_form_signs_in_with_one(redis_db: str) -> None:
    """The web pages are no way around keys and quotas: a browser signs in with a key (its
    session then holds the key's id), and its jobs are the key's, as through the API."""
    from tests.service.test_web import csrf_token, post_form

    app = create_app({"redis_url": redis_db, "require_api_key": True})
    key_id, key = create_key(redis_db, "--chars-per-month", "100000")
    browser, stranger = app.test_client(), app.test_client()
    page = browser.get("/").get_data(as_text=True)
    assert 'data-testid="sign-in"' in page
    refused = post_form(browser, text=unique_article(2, seed=540))
    assert refused.status_code == 401 and "sign in" in refused.get_data(as_text=True)
    wrong = browser.post("/sign-in", data={"csrf_token": csrf_token(browser), "api_key": "vk_x"})
    assert wrong.status_code == 401
    assert browser.post(
        "/sign-in", data={"csrf_token": csrf_token(browser), "api_key": key}
    ).status_code == 303  # fmt: skip
    assert 'data-testid="signed-in"' in browser.get("/").get_data(as_text=True)
    sent = post_form(browser, text=unique_article(2, seed=541))
    assert sent.status_code == 303
    job_id = sent.headers["Location"].rsplit("/", 1)[1]
    assert browser.get(f"/jobs/{job_id}").status_code == 200
    assert stranger.get(f"/jobs/{job_id}").status_code == 404
    assert app.test_client().get(f"/api/v1/jobs/{job_id}", headers=bearer(key)).status_code == 200
    assert KeyStore(redis_client(redis_db)).usage(key_id) > 0, "held against the key's quota"
    cookie_only = browser.get(f"/api/v1/jobs/{job_id}")
    assert cookie_only.status_code == 401, "the session signs in the pages, never the API"
    KeyStore(redis_client(redis_db)).revoke(key_id)
    assert browser.get(f"/jobs/{job_id}").status_code == 404, "a revoked key signs nobody in"
    browser.post("/sign-out", data={"csrf_token": csrf_token(browser)})
    assert 'data-testid="sign-in"' in browser.get("/").get_data(as_text=True)
