"""The compose file and the Makefile describe a deployment that can actually work."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from workers.worker import QUEUES

ROOT = Path(__file__).parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_queue_and_cache_are_separate_redis_servers_with_their_own_eviction() -> None:
    services = compose()["services"]
    assert {"queue", "cache", "web", "worker"} <= set(services)
    queue, cache = services["queue"]["command"], services["cache"]["command"]
    assert "--appendonly yes" in queue and "--maxmemory-policy noeviction" in queue
    assert "--maxmemory-policy allkeys-lru" in cache and "--maxmemory" in cache
    for name in ("web", "worker"):
        environment = services[name]["environment"]
        assert environment["VERTAAL_REDIS_URL"].startswith("redis://queue:")
        assert environment["VERTAAL_CACHE_URL"].startswith("redis://cache:")


def test_workers_can_be_scaled() -> None:
    worker = compose()["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert worker["command"] == ["vertaal", "worker", "--queues", "vertaal"]
    assert any(volume.endswith(":/models") for volume in worker["volumes"])


def test_the_web_runs_the_web_image_and_workers_the_worker_image() -> None:
    services = compose()["services"]
    for name, service in services.items():
        command = service.get("command", [])
        if command[:2] in (["vertaal", "serve"], ["vertaal", "flower"]):
            assert service["build"]["target"] == "web", name
        elif command[:2] == ["vertaal", "worker"]:
            assert service["build"]["target"] == "worker", name
    assert "volumes" not in services["web"], "the web never reads the models"


def test_one_dockerfile_builds_a_web_image_without_the_model_libraries() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = dict(re.findall(r"^FROM \S+ AS (\S+)\n(.*?)(?=^FROM |\Z)", dockerfile, re.M | re.S))
    assert {"web", "worker"} <= set(stages)
    assert 'pip install ".[web]"' in stages["build-web"] and "torch" not in stages["build-web"]
    assert 'pip install ".[worker]"' in stages["build-worker"]
    assert "USER 10001" in stages["web"] and "USER 10001" in stages["worker"]


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose is not installed (apt-get install docker-compose)",
)
def test_compose_file_is_valid() -> None:
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_every_queue_has_a_worker_of_its_own_and_keys_are_required() -> None:
    services = compose()["services"]
    taken = {
        command[command.index("--queues") + 1]: name
        for name, service in services.items()
        if "--queues" in (command := service.get("command", []))
    }
    # One queue per worker service: texts and callbacks never wait behind an article.
    assert set(taken) == set(QUEUES)
    assert taken["vertaal-webhooks"] == "notifier" and taken["vertaal-short"] == "short"
    assert services["web"]["environment"]["VERTAAL_REQUIRE_API_KEY"].endswith(":-true}")
    assert set(services["prometheus"]["profiles"]) == {"monitoring"}
    assert services["flower"]["command"][:2] == ["vertaal", "flower"]
