"""Redis connections that fail fast, to one server or to the master a Sentinel set names.

A web request must answer 503 within a couple of seconds when Redis is down, not hang on
retries, so every client gets short socket timeouts and no automatic retry. Every redis-py
client in Vertaal comes from here, so a Sentinel URL works everywhere alike:

    sentinel://[user:password@]h1:26379,h2:26379,h3:26379/mymaster/0

(the sentinels, the master's name, the database). The credentials are sent to the master and
to the sentinels both. Celery and the rate limiter get the same address in their own forms
(`workers/celery_app.py`, `service/limits.py`) from `SentinelURL`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 5.0

# What "Redis is unavailable" looks like to callers. During a Sentinel failover that is a
# ConnectionError too: the master is gone (MasterNotFoundError), or the old master answers
# as a replica (redis-py turns its READONLY reply into a ConnectionError).
RedisUnavailable = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)

SENTINEL_SCHEME = "sentinel"
PLAIN_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_FORM = "sentinel://[user:password@]host:26379,host:26379,.../master-name/db"


@dataclass(frozen=True)
class SentinelURL:
    """A `sentinel://` URL, taken apart."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SentinelURL:
        """Raises ValueError, saying what is wrong, for anything but the documented form."""
        parts = urlsplit(url)
        credentials, _, hosts = parts.netloc.rpartition("@")
        path = parts.path.strip("/").split("/")
        if parts.scheme != SENTINEL_SCHEME or not hosts or len(path) != 2 or not path[0]:
            raise ValueError(f"a Sentinel URL has the form {SENTINEL_FORM}")
        if parts.query or parts.fragment:
            raise ValueError(f"a Sentinel URL takes no options ({SENTINEL_FORM})")
        if not path[1].isdigit():
            raise ValueError(f"the database in a Sentinel URL is a number, not {path[1]!r}")
        username, _, password = credentials.partition(":") if credentials else ("", "", "")
        return cls(
            sentinels=tuple(_host_and_port(each) for each in hosts.split(",")),
            master=unquote(path[0]),
            db=int(path[1]),
            username=unquote(username) or None,
            password=unquote(password) or None,
        )

    def credentials(self) -> dict[str, str]:
        found = {"username": self.username, "password": self.password}
        return {name: value for name, value in found.items() if value}


def _host_and_port(address: str) -> tuple[str, int]:
    host, colon, port = address.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise ValueError(f"each sentinel is host:port, not {address!r} ({SENTINEL_FORM})")
    return host.strip("[]"), int(port)


def sentinel_url(url: str) -> SentinelURL | None:
    """The Sentinel address in `url`, or None for a plain redis://, rediss:// or unix:// URL."""
    return SentinelURL.parse(url) if urlsplit(url).scheme == SENTINEL_SCHEME else None


def check_redis_url(url: str) -> str:
    """`url` if Vertaal can connect with it; ValueError (for the settings) if not."""
    scheme = urlsplit(url).scheme
    if scheme == SENTINEL_SCHEME:
        SentinelURL.parse(url)
    elif scheme not in PLAIN_SCHEMES:
        raise ValueError(
            f"use a redis://, rediss://, unix:// or {SENTINEL_FORM} URL, not {scheme or url!r}"
        )
    return url


@functools.cache
def redis_client(url: str) -> redis.Redis:
    """One client (with its connection pool) per URL and process; redis-py re-creates the
    pool's connections after a fork, so prefork worker children can share this."""
    return new_redis_client(url)


def new_redis_client(url: str) -> redis.Redis:
    """A client with a pool of its own: for a thread of a worker's main process, whose pool
    its prefork children must never inherit mid-use."""
    options: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": SOCKET_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 30,
    }
    found = sentinel_url(url)
    if found is None:
        return redis.Redis.from_url(url, **options)
    # The pool asks the sentinels for the master on every new connection, so after a
    # failover the next request reaches the promoted replica; until then callers see
    # RedisUnavailable.
    sentinels = Sentinel(found.sentinels, sentinel_kwargs=sentinel_options(found))
    return sentinels.master_for(found.master, db=found.db, **found.credentials(), **options)


def sentinel_options(found: SentinelURL) -> dict[str, Any]:
    """How every Vertaal client talks to the sentinels themselves: briefly (master discovery
    moves on to the next sentinel when one does not answer), with the URL's credentials."""
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": CONNECT_TIMEOUT,
        **found.credentials(),
    }


def server_seconds(client: redis.Redis) -> float:
    """The Redis server's clock: what every deadline and heartbeat is measured by, so that
    hosts whose own clocks disagree still agree on which lease lapsed and who is alive."""
    seconds, micros = client.time()
    return int(seconds) + int(micros) / 1_000_000


def redis_location(url: str) -> str:
    """Where a Redis URL points, for messages: host and port (or the Sentinel master's name),
    never its password."""
    found = sentinel_url(url)
    if found is not None:
        return f"Sentinel master {found.master}"
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
