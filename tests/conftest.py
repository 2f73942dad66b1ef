"""Shared fixtures: tiny models built once per session, sample articles, clean settings."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

# No test may reach a model hub; huggingface_hub reads this once, when first imported.
os.environ["HF_HUB_OFFLINE"] = "1"
# prometheus_client picks its storage when first imported: never a shell's multiprocess dir.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
# Converted models go to each test's own folder (TinyModels.converted), which pytest clears.
# Anything converted into the default folder (XDG_CACHE_HOME/vertaal/ctranslate2) would
# outlive its test, in the user's own cache: this session's default is a folder of its own,
# checked empty at the end (`nothing_converted_into_the_default_folder`). The Hugging Face
# cache stays where it was.
os.environ.setdefault(
    "HF_HOME", str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "huggingface"))
)
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="vertaal-tests-cache-")

from service import create_app
from tests.model_factory import build_bart, build_marian
from tests.processes import Receiver, RedisServer, Worker
from workers.settings import Settings

DATA = Path(__file__).parent / "data"
# Tests that use these fixtures cross real processes: they are marked `slow`.
SLOW_FIXTURES = {"live_worker", "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


ARTICLES = DATA / "articles"


@dataclass(frozen=True)
class TinyModels:
    translation: Path
    summary: Path
    converted: Path  # where CTranslate2 copies go: never the user's own cache


def sample_corpus() -> list[str]:
    """Every non-empty line of the sample articles: what the tiny tokenizers learn from."""
    return [
        line for path in sorted(ARTICLES.glob("*.txt")) for line in path.read_text().splitlines()
        if line.strip()
    ]  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def nothing_converted_into_the_default_folder() -> Iterator[None]:
    yield
    cache = Path(os.environ["XDG_CACHE_HOME"])
    default = cache / "vertaal" / "ctranslate2"
    left = sorted(p.name for p in default.iterdir()) if default.is_dir() else []
    shutil.rmtree(cache, ignore_errors=True)
    assert not left, f"converted into the default folder instead of a test's own: {left}"


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    root = tmp_path_factory.mktemp("models")
    corpus = sample_corpus()
    return TinyModels(
        translation=build_marian(root / "marian", corpus),
        summary=build_bart(root / "bart", corpus),
        converted=root / "ctranslate2",
    )


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the VERTAAL_* variables they set themselves."""
    for name in list(os.environ):
        if name.startswith("VERTAAL_"):
            monkeypatch.delenv(name)


@pytest.fixture
def tiny_env(monkeypatch: pytest.MonkeyPatch, tiny_models: TinyModels) -> TinyModels:
    """Point the model variables at the tiny models, as a user would."""
    monkeypatch.setenv("VERTAAL_TRANSLATION_MODEL", str(tiny_models.translation))
    monkeypatch.setenv("VERTAAL_SUMMARY_MODEL", str(tiny_models.summary))
    monkeypatch.setenv("VERTAAL_CONVERTED_DIR", str(tiny_models.converted))
    return tiny_models


@pytest.fixture
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugging Face cache with nothing in it, whatever this machine has cached."""
    cache = tmp_path / "empty-hub-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    return cache


def settings_for(tiny_models: TinyModels, **overrides: Any) -> Settings:
    """Settings for the tiny models (CTranslate2 copies in the test's own folder)."""
    return Settings(
        translation_model=str(tiny_models.translation),
        summary_model=str(tiny_models.summary),
        converted_dir=tiny_models.converted,
        **overrides,
    )


@pytest.fixture(params=["ctranslate2", "transformers"])
def tiny_settings(request: pytest.FixtureRequest, tiny_models: TinyModels) -> Settings:
    """Settings for the tiny models, once for each engine."""
    return settings_for(tiny_models, engine=request.param)


@pytest.fixture
def news(tmp_path: Path) -> Path:
    """A folder of good articles, one nested, plus an empty and a binary file."""
    folder = tmp_path / "news"
    (folder / "belgie").mkdir(parents=True)
    shutil.copy(ARTICLES / "sherman-brussels-talks.txt", folder)
    shutil.copy(ARTICLES / "nato-russia-council-dialogue.txt", folder / "belgie")
    (folder / "empty.txt").write_text("  \n")
    (folder / "photo.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")  # not an article type: not picked up
    return folder


@pytest.fixture(params=sorted(p.name for p in ARTICLES.glob("*.txt")))
def sample_article(request: pytest.FixtureRequest) -> Path:
    """Each scraped sample article in turn."""
    return ARTICLES / request.param


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


# Vertaal's own keys; Celery's (`_kombu.*`, the queue) must survive between tests.
VERTAAL_KEYS = (
    "vertaal:job:*", "vertaal:result:*", "vertaal:sentence:*", "vertaal:inflight:*",
    "LIMITS*", "vertaal:metrics:*", "vertaal:apikey*", "vertaal:usage:*", "vertaal:reply:*",
    "vertaal:glossar*",
    # An earlier test's job still running when its record is wiped here would otherwise stay
    # counted as running until its lease lapses (the sweeper's cleanup, minutes later).
    "vertaal:running", "vertaal:leases",
)  # fmt: skip


@pytest.fixture
def redis_db(redis_server: RedisServer) -> str:
    """A Redis database of this test's own, which no worker listens to."""
    return redis_server.fresh_database()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session worker's database, without the jobs and cache entries of earlier tests."""
    client = redis_server.client()
    for pattern in VERTAAL_KEYS:
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)
    return redis_server.url


def service_env(tiny_models: TinyModels, redis_url: str, **settings: object) -> dict[str, str]:
    """Environment for a worker or server process on the tiny models."""
    env = {
        "VERTAAL_REDIS_URL": redis_url,
        "VERTAAL_TRANSLATION_MODEL": str(tiny_models.translation),
        "VERTAAL_SUMMARY_MODEL": str(tiny_models.summary),
        "VERTAAL_CONVERTED_DIR": str(tiny_models.converted),
        "VERTAAL_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    env.update({f"VERTAAL_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@pytest.fixture(scope="session")
def live_worker(
    redis_server: RedisServer, tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    """One real worker for the session, on the tiny models and the test Redis."""
    worker = Worker(
        service_env(tiny_models, redis_server.url), tmp_path_factory.mktemp("worker") / "log"
    )
    yield worker
    worker.stop()


@pytest.fixture
def app(redis_url: str, tiny_models: TinyModels) -> Flask:
    return create_app(
        {
            "redis_url": redis_url,
            "translation_model": str(tiny_models.translation),
            "summary_model": str(tiny_models.summary),
            "converted_dir": tiny_models.converted,
        }
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def browser_owner(client: FlaskClient) -> str:
    """The owner a job made in the store must record to be this test client's (a browser's
    anonymous session), as if it had submitted the job itself."""
    from service.ownership import SESSION_FIELD, anonymous_owner

    with client.session_transaction() as session:
        token = session.setdefault(SESSION_FIELD, "test-" + os.urandom(12).hex())
    return anonymous_owner(token)


def user_of(app: Flask) -> FlaskClient:
    """The one client (one cookie jar: one sender) a test uses for `app`, wherever it is
    asked for; a job sent without a key is readable only by the session that sent it."""
    found: FlaskClient = app.extensions.setdefault("tests.user", app.test_client())
    return found


def run_queued_job(job_id: str, settings: Settings) -> None:
    """Run a job here, as a worker would with the job's current message."""
    from workers.jobs.store import job_store
    from workers.tasks import run_job

    job = job_store(settings).get(job_id)
    assert job is not None and job.delivery is not None
    run_job(job_id, job.delivery, settings, worker="test")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server on loopback that records the callbacks it is sent."""
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in this test, however the suite was started: a shell
    that starts it in the background (`make test &` in a script) hands it SIGINT ignored, and
    Python then leaves it ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
