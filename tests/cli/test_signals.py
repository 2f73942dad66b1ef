"""Ctrl-C (SIGINT) and SIGTERM stop `vertaal translate` the same way, in every mode, also when
a script started it in the background: exit 130 or 143, nothing half-written, and with
--server the jobs it sent cancelled. Real processes, real signals."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from flask import Flask

from tests.conftest import ARTICLES, TinyModels
from tests.processes import ROOT, Worker, live_server, wait_for
from tests.service.test_api import unique_article

STOPS = [
    pytest.param(signal.SIGINT, 130, "Interrupted", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "Stopped by SIGTERM", id="SIGTERM"),
]


@dataclass
class Background:
    """`vertaal translate` started as a script starts a job with `&`: its shell (no job
    control) hands it SIGINT ignored."""

    shell: subprocess.Popen[bytes]
    pid: int
    stdout: Path
    stderr: Path

    def stop(self, number: signal.Signals) -> int:
        os.kill(self.pid, number)
        return self.shell.wait(timeout=60)


@contextmanager
def in_background(args: list[str], tmp_path: Path, **env: str) -> Iterator[Background]:
    pid_file, stdout, stderr = (tmp_path / name for name in ("pid", "stdout", "stderr"))
    script = f'"$@" >{stdout} 2>{stderr} & echo $! >{pid_file}; wait $!'
    shell = subprocess.Popen(
        ["sh", "-c", script, "sh", sys.executable, "-m", "cli", "translate", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        start_new_session=True,  # the test's own process group never gets these signals
    )
    try:
        pid = int(str(wait_for(lambda: pid_file.exists() and pid_file.read_text(), 10, "pid")))
        yield Background(shell, pid, stdout, stderr)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()


def whole_lines(index: Path) -> list[dict[str, object]]:
    """The index's lines as a reader tailing it takes them: only those ended by a newline."""
    text = index.read_text() if index.exists() else ""
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def translated_lines(out: Path) -> list[dict[str, object]]:
    return [line for line in whole_lines(out / "index.jsonl") if line["status"] == "translated"]


def nothing_half_written(out: Path) -> None:
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "temporary files left"
    for document in out.rglob("*.json"):
        assert json.loads(document.read_text())["fingerprint"]
        assert document.with_suffix(".en.md").is_file()
    assert all(json.loads(line) for line in (out / "index.jsonl").read_text().splitlines())


@pytest.mark.parametrize(("stop", "code", "message"), STOPS)
def test_a_background_run_stops_cleanly_on_either_signal(
    tmp_path: Path, tiny_env: TinyModels, stop: signal.Signals, code: int, message: str
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    text = (ARTICLES / "sherman-brussels-talks.txt").read_text()
    for number in range(60):
        (folder / f"article-{number:02}.txt").write_text(text)
    with in_background(
        [str(folder), "--out", str(out)], tmp_path, VERTAAL_BATCH_ARTICLES="1"
    ) as run:
        wait_for(lambda: translated_lines(out), 60, "the first article to be translated")
        assert run.stop(stop) == code, run.stderr.read_text()
    assert message in run.stderr.read_text()
    assert len(translated_lines(out)) < 60, "it stopped in the middle"
    nothing_half_written(out)


def job_statuses(redis_url: str) -> list[bytes]:
    store = redis.Redis.from_url(redis_url)
    return [
        store.hget(key, "status") or b"" for key in store.scan_iter("vertaal:job:*", _type="HASH")
    ]


@pytest.mark.slow
@pytest.mark.parametrize("watch", [[], ["--watch"]], ids=["run", "watch"])
def test_sigterm_with_server_cancels_the_jobs_it_sent(
    app: Flask,
    live_worker: Worker,
    redis_url: str,
    tmp_path: Path,
    tiny_env: TinyModels,
    watch: list[str],
) -> None:
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for number in range(30):
        (folder / f"article-{number:02}.txt").write_text(unique_article(24, seed=900 + number))
    with live_server(app) as url:
        args = [str(folder), "--out", str(out), "--server", url, "--concurrency", "4", *watch]
        with in_background(args, tmp_path) as run:
            wait_for(lambda: translated_lines(out), 60, "the first article to be translated")
            assert run.stop(signal.SIGTERM) == 143, run.stderr.read_text()
    assert "Stopped by SIGTERM" in run.stderr.read_text()
    nothing_half_written(out)
    wait_for(
        lambda: not {b"queued", b"running"} & set(job_statuses(redis_url)),
        30,
        "no job of the stopped run to be left queued or running",
    )
    assert b"cancelled" in job_statuses(redis_url), "the jobs in flight were cancelled"
