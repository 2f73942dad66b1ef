"""`vertaal worker-alive`, the liveness probe of a worker's container."""

import socket

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.processes import free_port
from workers.connections import new_redis_client
from workers.operations import heartbeats


def alive(monkeypatch: pytest.MonkeyPatch, url: str) -> tuple[int, str]:
    monkeypatch.setenv("VERTAAL_REDIS_URL", url)
    monkeypatch.setenv("VERTAAL_HEARTBEAT_SECONDS", "1")
    result = CliRunner().invoke(main, ["worker-alive"])
    return result.exit_code, result.output


def test_passes_while_a_worker_on_this_host_beats(
    monkeypatch: pytest.MonkeyPatch, redis_db: str
) -> None:
    client = new_redis_client(redis_db)
    heartbeats.beat(client, "vertaal@elsewhere-7", {"processes": 1}, every=1)
    assert alive(monkeypatch, redis_db)[0] == 1, "another host's worker is not this one"
    here = f"vertaal@{socket.gethostname()}-7"
    heartbeats.beat(client, here, {"processes": 1}, every=1)
    assert alive(monkeypatch, redis_db) == (0, here + "\n")
    client.zadd(heartbeats.WORKERS, {here: 0})  # its last beat long ago: the process hangs
    assert alive(monkeypatch, redis_db)[0] == 1


def test_passes_when_redis_is_away_so_an_outage_restarts_no_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, output = alive(monkeypatch, f"redis://127.0.0.1:{free_port()}/0")
    assert code == 0 and "not the worker's fault" in output
