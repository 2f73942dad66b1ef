"""Rate limits: per key or address, counted in Redis (so shared by every web process)."""

from flask.testing import FlaskClient

from service import create_app
from tests.service.test_api import unique_article
from tests.service.test_auth import bearer, create_key
from tests.service.test_web import csrf_token


def submit(client: FlaskClient, seed: int, **kwargs: object):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/jobs", json={"text": unique_article(3, seed=seed)}, **kwargs)


def test_a_burst_past_the_limit_gets_429_with_retry_after(redis_db: str) -> None:
    settings = {"redis_url": redis_db, "rate_limit": "3/minute", "read_rate_limit": "100/minute"}
    client = create_app(settings).test_client()
    answers = [submit(client, seed=80 + i) for i in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    refused = answers[-1]
    assert refused.is_json and refused.get_json()["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert answers[0].headers["RateLimit-Remaining"] == "2"
    job = answers[0].get_json()["links"]["self"]
    assert all(client.get(job).status_code == 200 for _ in range(10)), "polling has its own"
    assert client.get("/api/v1/health").status_code == 200

    other_process = create_app(settings).test_client()  # another gunicorn process, say
    assert submit(other_process, seed=90).status_code == 429, "counted in Redis, shared"


def test_each_key_has_its_own_budget_and_may_have_its_own_rate(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db, "rate_limit": "2/minute"}).test_client()
    _, ordinary = create_key(redis_db)
    _, generous = create_key(redis_db, "--rate", "5/minute")
    assert [submit(client, 100 + i, headers=bearer(ordinary)).status_code for i in range(3)] == [
        202, 202, 429,
    ]  # fmt: skip
    assert submit(client, 110).status_code == 202, "the address has a budget of its own"
    statuses = [submit(client, 120 + i, headers=bearer(generous)).status_code for i in range(6)]
    assert statuses == [202] * 5 + [429]


def test_the_web_form_is_keyless_but_limited_per_address(redis_db: str) -> None:
    client = create_app({"redis_url": redis_db, "rate_limit": "2/minute"}).test_client()
    statuses = [
        client.post(
            "/", data={"csrf_token": csrf_token(client), "text": unique_article(3, seed=130 + i)}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [303, 303, 429]
