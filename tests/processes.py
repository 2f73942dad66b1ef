"""Real processes for tests that cross Redis and Celery: a Redis server, workers, a web server.

Tests start their own Redis on a free port (never the machine's shared 6379), so they can stop
it, and real `vertaal worker` processes on the tiny models, exactly as a user would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import redis
from werkzeug.serving import make_server

from cli.stack import queue_options, start_redis

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """A Redis of the tests' own. Database 0 belongs to the session's live worker; every other
    test that needs Redis gets a fresh database of its own (`fresh_database`)."""

    DATABASES = 1000

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.next_database = 1
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        # The same start as `vertaal up` uses for its queue, on a port of its own.
        return start_redis(self.url, self.directory, queue_options("1gb"), databases=self.DATABASES)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last save; only what the append-only file holds survives."""
        self.process.kill()
        self.process.wait(timeout=10)

    def restart(self) -> None:
        self.process = self._start()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def fresh_database(self) -> str:
        """The URL of a database no other test has used."""
        number, self.next_database = self.next_database, self.next_database + 1
        assert number < self.DATABASES, "more tests than databases: raise DATABASES"
        return f"redis://127.0.0.1:{self.port}/{number}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Worker:
    """`vertaal worker` in a subprocess, with its log in a file."""

    def __init__(self, env: Mapping[str, str], log: Path, command: str = "cli") -> None:
        """`command`: the module that is the `vertaal` command (tests.slow_backend adds a
        deliberately slow backend to it)."""
        self.log = log
        self.handle = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", command, "worker", "--loglevel=INFO"],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: `kill_all` takes the children too
        )
        wait_for(lambda: b"ready." in log.read_bytes() or self.process.poll() is not None, 60,
                 "the worker to start")  # fmt: skip
        if self.process.poll() is not None:
            self.handle.close()
            raise RuntimeError(f"worker exited:\n{log.read_text()}")

    @property
    def name(self) -> str:
        """The worker's node name (workers/worker.py: unique per `vertaal worker` process)."""
        return f"vertaal-{self.process.pid}@{socket.gethostname()}"

    def kill_all(self) -> None:
        """SIGKILL to the worker and all its processes at once, as a crashed host would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.handle.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):  # no child outlives its test
            os.killpg(self.process.pid, signal.SIGKILL)
        self.handle.close()


@contextmanager
def live_server(app: object) -> Iterator[str]:
    """Serve a WSGI app over real HTTP in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
