"""The web installs and runs without the model libraries (the web image of issue 20).

A fresh virtual environment with `pip install '.[web]'` takes over a minute here, too long
for every test run, so the check is in two honest halves instead:

1. what that install holds: the closure of the requirements pyproject declares for
   `vertaal[web]`, followed through each installed package's own metadata (markers and
   extras evaluated, as pip resolves them) — none of the model libraries is in it;
2. that it is enough: `vertaal serve` (gunicorn, as deployed) in a subprocess whose every
   import of a module outside that install fails as a missing module would, through a
   `sitecustomize` on PYTHONPATH. It must start, answer /api/v1/health and /ready, and
   accept a job, and never even try to import a model library.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
from packaging.requirements import Requirement

from tests.processes import free_port, wait_for
from tests.service.test_api import unique_article
from tests.test_packaging import MODEL_LIBRARIES, ROOT, canonical

REFUSE = """
import sys

BLOCKED = set({blocked!r})
LOG = {log!r}


class RefuseOutsideTheWebInstall:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            with open(LOG, "a") as log:
                log.write(name + "\\n")
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, RefuseOutsideTheWebInstall())
"""


def web_install() -> set[str]:
    """The distributions `pip install '.[web]'` installs, by canonical name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["web"]
    wanted = [Requirement(text) for text in declared]
    found = {"vertaal"}
    while wanted:
        requirement = wanted.pop()
        name = canonical(requirement.name)
        if name in found:
            continue
        found.add(name)
        for text in importlib.metadata.distribution(name).requires or []:
            needed = Requirement(text)
            extras = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(e) for e in extras):
                wanted.append(needed)
    return found


def outside(install: set[str]) -> set[str]:
    """Top-level modules of this environment that no distribution of `install` provides."""
    return {
        module
        for module, owners in importlib.metadata.packages_distributions().items()
        if not {canonical(owner) for owner in owners} & install
    }


def test_the_web_install_holds_none_of_the_model_libraries() -> None:
    install = web_install()
    assert {"flask", "gunicorn", "celery", "redis"} <= install
    assert not MODEL_LIBRARIES & install, MODEL_LIBRARIES & install
    assert not {"sentencepiece", "huggingface-hub", "nvidia-cublas-cu12"} & install


def test_vertaal_serve_runs_on_the_web_install_alone(tmp_path: Path, redis_db: str) -> None:
    refused = tmp_path / "refused-imports"
    site = tmp_path / "site"
    site.mkdir()
    blocked = sorted(outside(web_install()))
    (site / "sitecustomize.py").write_text(REFUSE.format(blocked=blocked, log=str(refused)))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        "VERTAAL_REDIS_URL": redis_db,
        "VERTAAL_PORT": str(port),
        "VERTAAL_WEB_PROCESSES": "1",
        "VERTAAL_WEB_THREADS": "2",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve"], env=env, cwd=tmp_path,
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base) or server.poll() is not None, 60, "vertaal serve")
        assert server.poll() is None, log.read_text()
        assert httpx.get(f"{base}/api/v1/health").status_code == 200
        ready = httpx.get(f"{base}/api/v1/ready")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "no_workers"
        text = unique_article(4, seed=901)
        assert httpx.post(f"{base}/api/v1/jobs", json={"text": text}).status_code == 202
        assert httpx.get(f"{base}/").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    tried = set(refused.read_text().split()) if refused.exists() else set()
    assert not {name.partition(".")[0] for name in tried} & MODEL_LIBRARIES, tried
    assert "torch" in blocked and "ctranslate2" in blocked, "the guard guards"


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
