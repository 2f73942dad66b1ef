"""`vertaal translate --server`: the job API from the client side, over real HTTP."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis
from click.testing import CliRunner
from flask import Flask

from cli.batch import ArticleFile, StopRequested
from cli.client import ServiceClient, ServiceUnreachableError
from cli.main import main
from service import create_app
from tests.cli.test_main import outputs
from tests.conftest import ARTICLES, TinyModels
from tests.processes import Worker, free_port, live_server
from tests.service.test_api import unique_article
from workers.errors import NotDutchError

pytestmark = pytest.mark.slow


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
    assert first.stdout.strip().splitlines()[-1] == "2 translated, 0 skipped, 2 failed, 1 ignored"
    assert "empty.txt" in first.stderr and "photo.txt" in first.stderr
    assert again.stdout.strip().splitlines()[-1] == "0 translated, 2 skipped, 2 failed, 1 ignored"

    CliRunner().invoke(main, ["translate", str(folder), "-o", str(local)])
    assert outputs(remote) == outputs(local)
    for name in ("sherman-brussels-talks.json", "belgie/nato-russia-council-dialogue.json"):
        served, here = (json.loads((root / name).read_text()) for root in (remote, local))
        for field in ("source", "translation", "summary", "removed", "models"):
            assert served[field] == here[field], f"{name}: {field} differs between modes"
    assert (remote / "sherman-brussels-talks.en.md").read_text() == (
        local / "sherman-brussels-talks.en.md"
    ).read_text()


def test_outputs_are_current_whichever_route_made_them(
    app: Flask, live_worker: Worker, tmp_path: Path, tiny_env: TinyModels
) -> None:
    """The fingerprint covers input, settings and model versions, not the server's URL."""
    article = ARTICLES / "sherman-brussels-talks.txt"
    made_here, made_there = tmp_path / "here", tmp_path / "there"
    with live_server(app) as url:
        here = [main, ["translate", str(article), "-o", str(made_here)]]
        there = [main, ["translate", str(article), "-o", str(made_there), "--server", url]]
        runs = [CliRunner().invoke(*command) for command in (here, there)]
        assert [r.stdout.strip() for r in runs] == [
            "1 translated, 0 skipped, 0 failed, 0 ignored"
        ] * 2
        # Each folder again, by the other route: nothing to do.
        here[1][-1], there[1][3] = str(made_there), str(made_here)
        runs = [CliRunner().invoke(*command) for command in (here, there)]
    assert [r.stdout.strip() for r in runs] == ["0 translated, 1 skipped, 0 failed, 0 ignored"] * 2


def test_unreachable_server_is_a_clear_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        main, ["translate", str(ARTICLES), "-o", str(tmp_path), "--server", url]
    )
    assert result.exit_code == 2
    assert f"cannot reach the Vertaal service at {url}" in result.stderr


def test_server_without_workers_is_refused(redis_db: str, tmp_path: Path) -> None:
    with live_server(create_app({"redis_url": redis_db})) as url:
        started = time.monotonic()
        result = CliRunner().invoke(
            main, ["translate", str(ARTICLES), "-o", str(tmp_path), "--server", url]
        )
    assert result.exit_code == 2
    assert "is not ready: no worker is alive" in result.stderr
    assert time.monotonic() - started < 10


def in_process_client(redis_url: str) -> ServiceClient:
    """A client whose HTTP goes straight into an app (no worker there: jobs stay queued)."""
    client = ServiceClient("http://vertaal.test", summary=False, check_language=True)
    client.http = httpx.Client(
        transport=httpx.WSGITransport(app=create_app({"redis_url": redis_url})),
        base_url="http://vertaal.test",
    )
    return client


def job_statuses(redis_url: str, filename: str) -> list[bytes]:
    store = redis.Redis.from_url(redis_url)
    jobs = [store.hgetall(key) for key in store.scan_iter("vertaal:job:*", _type="HASH")]
    return [job[b"status"] for job in jobs if job.get(b"filename") == filename.encode()]


def test_a_stopped_client_cancels_its_job_on_the_server(redis_db: str, tmp_path: Path) -> None:
    client = in_process_client(redis_db)
    path = tmp_path / "stopped.txt"
    path.write_text(unique_article(3, seed=7))
    threading.Timer(0.5, client.stop).start()
    started = time.monotonic()
    with pytest.raises(StopRequested):
        client.translate(ArticleFile(path, path, path), path.read_bytes(), lambda *a: None)
    assert time.monotonic() - started < 5
    assert job_statuses(redis_db, "stopped.txt") == [b"cancelled"]


@pytest.mark.usefixtures("ctrl_c")
def test_ctrl_c_with_one_article_in_flight_cancels_its_job(redis_db: str, tmp_path: Path) -> None:
    """--concurrency 1 polls in the main thread, where Ctrl-C lands."""
    client = in_process_client(redis_db)
    path = tmp_path / "interrupted.txt"
    path.write_text(unique_article(3, seed=8))
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        client.translate(ArticleFile(path, path, path), path.read_bytes(), lambda *a: None)
    assert job_statuses(redis_db, "interrupted.txt") == [b"cancelled"]


def test_the_servers_article_errors_come_back_as_the_same_errors(
    redis_db: str, tmp_path: Path
) -> None:
    client = in_process_client(redis_db)
    path = tmp_path / "english.txt"
    path.write_text(
        "NATO and Russia met in Brussels on Wednesday to discuss security in Europe, but the "
        "talks ended without any agreement on the troops gathered near the border."
    )
    with pytest.raises(NotDutchError, match="looks like English"):
        client.translate(ArticleFile(path, path, path), path.read_bytes(), lambda *a: None)


def test_a_server_that_is_not_vertaal_is_a_clear_error() -> None:
    client = ServiceClient("http://other.test", summary=True, check_language=True)
    client.http = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, html="<p>Hi</p>")),
        base_url="http://other.test",
    )
    with pytest.raises(ServiceUnreachableError, match="did not answer like a Vertaal service"):
        client.model_digests()
