"""`vertaal serve`: gunicorn in front of the app, as deployed, over real HTTP."""

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.processes import ROOT, free_port, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def served(redis_db: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "VERTAAL_REDIS_URL": redis_db,
        "VERTAAL_PORT": str(port),
        "VERTAAL_WEB_PROCESSES": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 60, "gunicorn to answer")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


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
