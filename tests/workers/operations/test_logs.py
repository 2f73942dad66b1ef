"""JSON logs: one request id from the web request through to the worker that ran its job."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TinyModels, service_env
from tests.processes import ROOT, RedisServer, Worker, free_port, wait_for
from tests.service.test_api import unique_article

pytestmark = pytest.mark.slow


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_one_request_id_from_web_to_worker(
    redis_server: RedisServer, tiny_models: TinyModels, tmp_path: Path
) -> None:
    url = redis_server.fresh_database()
    env = service_env(tiny_models, url, log_format="json")
    worker = Worker(env, tmp_path / "worker.log")
    port = free_port()
    web_log = tmp_path / "web.log"
    with web_log.open("wb") as sink:
        web = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port)],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), 60, "the web server")
        article = unique_article(3, seed=160)
        answer = httpx.post(
            f"{base}/api/v1/jobs",
            json={"text": article},
            headers={"X-Request-ID": "req-0123456789"},
        )
        assert answer.headers["X-Request-ID"] == "req-0123456789"
        job_id, mine = answer.json()["id"], {"X-Job-Token": answer.json()["token"]}
        wait_for(
            lambda: (
                httpx.get(f"{base}/api/v1/jobs/{job_id}", headers=mine).json()["status"] == "done"
            ),
            60,
            "the job",
        )
        generated = httpx.get(f"{base}/api/v1/health").headers["X-Request-ID"]
        assert len(generated) == 32, "made up when the client sends none"
    finally:
        web.terminate()
        web.wait(timeout=30)
        worker.stop()

    web_lines, worker_lines = json_lines(web_log), json_lines(tmp_path / "worker.log")
    mine = [line for line in web_lines if line.get("request_id") == "req-0123456789"]
    assert any(line.get("job_id") == job_id for line in mine), "the web logs the job it made"
    assert any(line.get("http", {}).get("path") == "/api/v1/jobs" for line in mine), "access"
    followed = [line for line in worker_lines if line.get("request_id") == "req-0123456789"]
    assert followed and all(line["job_id"] == job_id for line in followed)
    assert any("done" in line["message"] for line in followed)
    everything = web_log.read_text() + (tmp_path / "worker.log").read_text()
    assert article.split(".")[0] not in everything, "article text never reaches the logs"


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
