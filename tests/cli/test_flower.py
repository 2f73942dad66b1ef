"""`vertaal flower`: Celery Flower on Vertaal's broker lists the tasks Vertaal ran."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from service import create_app
from tests.conftest import TinyModels, service_env
from tests.processes import ROOT, RedisServer, Worker, free_port, wait_for
from tests.service.test_api import poll, unique_article

pytestmark = pytest.mark.slow


def test_flowers_api_lists_a_task_vertaal_ran(
    redis_server: RedisServer, tiny_models: TinyModels, tmp_path: Path
) -> None:
    url = redis_server.fresh_database()
    env = service_env(tiny_models, url)
    port = free_port()
    flower = subprocess.Popen(
        [sys.executable, "-m", "cli", "flower", "--port", str(port)],
        env={**os.environ, **env, "FLOWER_UNAUTHENTICATED_API": "true"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = Worker(env, tmp_path / "worker.log")
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: _answers(f"{api}/workers"), 60, "Flower to answer")
        client = create_app({"redis_url": url}).test_client()
        job = client.post("/api/v1/jobs", json={"text": unique_article(3, seed=170)}).get_json()
        assert poll(client, job["id"])[-1]["status"] == "done"

        def listed() -> dict[str, Any] | None:
            tasks = httpx.get(f"{api}/tasks", timeout=5).json()
            return next((t for t in tasks.values() if job["id"] in str(t.get("args"))), None)

        task = wait_for(listed, 30, "Flower to list the task")
        assert isinstance(task, dict)
        assert task["name"] == "vertaal.translate_article"
        assert task["state"] == "SUCCESS" and task["runtime"] > 0
    finally:
        worker.stop()
        flower.terminate()
        flower.wait(timeout=30)


def _answers(address: str) -> bool:
    try:
        return httpx.get(address, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
