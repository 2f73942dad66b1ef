"""`vertaal serve`: gunicorn in front of the app, as deployed, over real HTTP."""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import ROOT, free_port, wait_for

pytestmark = pytest.mark.slow


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path  # everything it wrote, stdout and stderr

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def server(redis_db: str, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "VERTAAL_REDIS_URL": redis_db,
        "VERTAAL_PORT": str(port),
        "VERTAAL_WEB_PROCESSES": "2",
        "VERTAAL_SHORT_WAIT": "1",  # no worker answers here: protocol texts give up soon
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)

    def up() -> bool:
        try:
            return httpx.get(f"{running.base}/api/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 60, "gunicorn to answer")
        yield running
    finally:
        running.stop()


@pytest.fixture
def served(server: Server) -> str:
    return server.base


def raw_request(base: str, target: str) -> tuple[int, str, bytes]:
    """Send a request line httpx would refuse to build; (status, content type, body)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body


def test_over_long_urls_get_json_answers(served: str) -> None:
    status, kind, body = raw_request(served, "/api/v1/jobs/" + "a" * 8000)
    assert (status, kind) == (404, "application/json")
    status, kind, body = raw_request(served, "/api/v1/jobs/" + "a" * 9000)
    assert (status, kind) == (414, "application/json")
    assert b'"uri_too_long"' in body


def test_huge_unpunctuated_articles_do_not_freeze_the_web(served: str) -> None:
    """Two 1 MB paragraphs without a sentence end at once: the web only samples them, so
    health probes meanwhile are answered, and the articles are accepted."""
    article = " ".join(f"woord{i} de" for i in range(75_000))[:999_000]
    accepted: list[int] = []

    def submit() -> None:
        response = httpx.post(
            f"{served}/api/v1/jobs",
            json={"text": article, "check_language": False},
            timeout=30,
        )
        accepted.append(response.status_code)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    probes = [httpx.get(f"{served}/api/v1/health", timeout=5).status_code for _ in range(10)]
    for thread in threads:
        thread.join(timeout=60)
    assert probes == [200] * 10
    assert accepted == [202, 202], "accepted (the second joins the first)"


SECRET, TEXT = "s3cr3t-key-4711", "GeheimeZinOverDeDijken"


def test_no_key_or_text_from_a_query_string_reaches_any_log_line(server: Server) -> None:
    """Clients of both protocols that put their key and the text in the query string: the
    access log keeps the path alone, and nothing else logs them either."""
    query = f"q={TEXT}&source=nl&target=en"
    requests = [
        ("POST", f"/translate?{query}&api_key={SECRET}"),  # LibreTranslate, a key
        ("POST", f"/translate?{query}"),  # no key: waits for a worker, then 503
        ("POST", f"/v2/translate?auth_key={SECRET}&text={TEXT}&target_lang=EN"),  # DeepL
        ("GET", f"/api/v1/jobs/{'f' * 32}?api_key={SECRET}&q={TEXT}"),
        ("GET", f"/api/v1/ready?api_key={SECRET}&q={TEXT}"),
    ]
    with httpx.Client(base_url=server.base, timeout=10) as client:
        statuses = [client.request(method, target).status_code for method, target in requests]
    assert 401 in statuses and 503 in statuses, statuses
    status, _, _ = raw_request(server.base, f"/api/v1/jobs/{'a' * 9000}?api_key={SECRET}")
    assert status == 414
    server.stop()
    lines = server.log.read_text(errors="replace").splitlines()
    assert sum('"POST /translate HTTP/1.1"' in line for line in lines) == 2, "access lines"
    leaks = [line for line in lines if SECRET in line or TEXT in line]
    assert not leaks, leaks


def test_metrics_sum_the_http_figures_of_every_web_process_and_leave_no_folder(
    server: Server,
) -> None:
    for _ in range(8):  # spread over both web processes
        assert httpx.get(f"{server.base}/api/v1/health").status_code == 200
    metrics = httpx.get(f"{server.base}/metrics").text
    count = re.search(
        r'^vertaal_http_request_duration_seconds_count\{[^}]*endpoint="api.health"'
        r'[^}]*status="200"[^}]*\} (\S+)$',
        metrics,
        re.M,
    )
    assert count and float(count.group(1)) >= 8, metrics[-3000:]  # + the start-up probes
    folder = Path("/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir())
    assert (folder / f"vertaal-metrics-{server.process.pid}").is_dir()
    server.stop()
    assert not (folder / f"vertaal-metrics-{server.process.pid}").exists(), "removed at exit"


def test_a_recycled_web_process_leaves_the_server_serving(server: Server) -> None:
    """A web process that stops (recycled after max_requests, or killed politely) is
    replaced, and its replacement finds the metrics folder still there: the process that
    stopped must not remove what the master made for all of them."""
    folder = Path("/dev/shm" if Path("/dev/shm").is_dir() else tempfile.gettempdir())
    metrics = folder / f"vertaal-metrics-{server.process.pid}"
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    first = [int(pid) for pid in children.read_text().split()]
    assert first, "gunicorn's web processes"
    for pid in first:  # what gunicorn does at max_requests: the process exits, gracefully
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = set(map(int, children.read_text().split()))
        if now and not now & set(first):
            break
        time.sleep(0.2)
    assert server.process.poll() is None, server.log.read_text(errors="replace")[-2000:]
    assert metrics.is_dir()
    for _ in range(4):
        assert httpx.get(f"{server.base}/api/v1/health", timeout=10).status_code == 200
    assert httpx.get(f"{server.base}/metrics", timeout=10).status_code == 200
