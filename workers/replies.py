"""Answers for requests that wait (LibreTranslate, DeepL texts): the worker pushes its answer
onto a list named for the request, and the web process blocks on that list for a bounded
time. A list outlives its request by a minute at most."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis

from workers.connections import SOCKET_TIMEOUT

PREFIX = "vertaal:reply:"
KEPT = 60
# One BLPOP must end well inside the client's socket timeout, or redis-py reports a dead
# connection while Redis is merely waiting; a long wait is a chain of short ones.
SLICE = max(1, int(SOCKET_TIMEOUT) - 2)


def new_reply_to() -> str:
    return PREFIX + uuid.uuid4().hex


def send(client: redis.Redis, reply_to: str, answer: dict[str, Any]) -> None:
    with client.pipeline() as pipe:
        pipe.rpush(reply_to, json.dumps(answer, ensure_ascii=False))
        pipe.expire(reply_to, KEPT)
        pipe.execute()


def wait(client: redis.Redis, reply_to: str, timeout: float) -> dict[str, Any] | None:
    """The answer, or None when none came within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        found = client.blpop([reply_to], timeout=min(SLICE, left))  # Redis >= 6: seconds as float
        if found is not None:
            answer: dict[str, Any] = json.loads(found[1])
            return answer
    return None
