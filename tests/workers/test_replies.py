"""A waiting short-text request and its answer: the wait outlasts the client's socket
timeout, and a worker that fails answers with the error at once instead of leaving the
request to time out."""

import threading
import time

import pytest
import redis

import workers.tasks
from workers import replies
from workers.celery_app import SHORT_TASK, create_celery
from workers.connections import new_redis_client
from workers.settings import Settings


def test_a_wait_longer_than_one_slice_still_gets_a_late_answer(
    redis_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replies, "SLICE", 0.2)  # the socket timeout, scaled down
    client = new_redis_client(redis_db)
    reply_to = replies.new_reply_to()
    late = threading.Timer(
        0.7, replies.send, (redis.Redis.from_url(redis_db), reply_to, {"texts": ["x"]})
    )
    late.start()
    assert replies.wait(client, reply_to, 5) == {"texts": ["x"]}
    late.join()
    assert client.ttl(reply_to) in (-2, replies.KEPT), "an answer never outlives a minute"


def test_no_answer_is_none_after_the_wait(redis_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replies, "SLICE", 0.2)
    started = time.monotonic()
    assert replies.wait(new_redis_client(redis_db), replies.new_reply_to(), 0.5) is None
    assert 0.5 <= time.monotonic() - started < 2


def test_a_failing_worker_answers_with_its_error_at_once(
    redis_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(workers.tasks, "translate_texts", broken)
    task = create_celery(Settings(redis_url=redis_db)).tasks[SHORT_TASK]
    reply_to = replies.new_reply_to()
    task.apply(args=[reply_to, ["Een zin."], False, False])
    answer = replies.wait(new_redis_client(redis_db), reply_to, 1)
    assert answer == {
        "error": {"code": "internal_error", "message": "the texts could not be translated"}
    }
