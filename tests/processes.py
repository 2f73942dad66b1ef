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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis
from werkzeug.serving import make_server

from cli.redis_servers import queue_options, redis_server_binary, start_redis

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
        return f"vertaal@{socket.gethostname()}-{self.process.pid}"

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


class SentinelSet:
    """A master, a replica and three `redis-server --sentinel` on free ports of their own,
    as a Sentinel deployment runs them, with timeouts short enough for a failover within
    seconds: a master silent for one second is down, and two sentinels agreeing fail it over."""

    MASTER = "vertaal"
    DOWN_AFTER_MS = 1000

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.master_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: list[subprocess.Popen[bytes]] = []
        options = [f"--{name} {value}" if value else f'--{name} ""'
                   for name, value in queue_options("256mb").items()]  # fmt: skip
        self.master = self._server("master", self.master_port, options)
        self._server("replica", self.replica_port,
                     [*options, f"--replicaof 127.0.0.1 {self.master_port}"])  # fmt: skip
        for port in self.sentinel_ports:
            self._sentinel(port)
        wait_for(self._replica_known, 30, "the sentinels to see the replica in sync")

    def url(self, database: int = 0) -> str:
        """The Sentinel URL Vertaal is given, for one database."""
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"sentinel://{hosts}/{self.MASTER}/{database}"

    def master_port_now(self) -> int:
        """The master's port as the sentinels tell it now."""
        with redis.Redis(port=self.sentinel_ports[0]) as sentinel:
            _, port = sentinel.sentinel_get_master_addr_by_name(self.MASTER)
        return int(port)

    def kill_master(self) -> None:
        """SIGKILL: the master is gone without a word, as a crashed host is."""
        self.master.kill()
        self.master.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _server(self, name: str, port: int, options: list[str]) -> subprocess.Popen[bytes]:
        folder = self.directory / name
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "redis.conf"
        lines = [f"port {port}", "bind 127.0.0.1", f"dir {folder}", *[o[2:] for o in options]]
        config.write_text("\n".join(lines) + "\n")
        return self._start(config, port)

    def _sentinel(self, port: int) -> None:
        folder = self.directory / f"sentinel-{port}"
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "sentinel.conf"  # a sentinel rewrites its file: one each
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
            f"sentinel monitor {self.MASTER} 127.0.0.1 {self.master_port} 2\n"
            f"sentinel down-after-milliseconds {self.MASTER} {self.DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {self.MASTER} 5000\n"
            f"sentinel parallel-syncs {self.MASTER} 1\n"
        )
        self._start(config, port, "--sentinel")

    def _start(self, config: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [redis_server_binary(), str(config), *extra], stdout=subprocess.DEVNULL
        )
        self.processes.append(process)
        wait_for(lambda: _answers(port) or process.poll() is not None, 10, f"redis on {port}")
        if process.poll() is not None:
            raise RuntimeError(f"redis-server {config} exited with {process.returncode}")
        return process

    def _replica_known(self) -> bool:
        for port in self.sentinel_ports:
            with redis.Redis(port=port) as sentinel:
                replicas = sentinel.sentinel_slaves(self.MASTER)
                if not any(r["port"] == self.replica_port and r["is_slave"] and
                           r.get("master-link-status") == "ok" for r in replicas):  # fmt: skip
                    return False
        return True


def _answers(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


class Receiver:
    """An HTTP server on loopback that records each POST and answers `status`."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, dict[str, str], bytes]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((time.monotonic(), dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
