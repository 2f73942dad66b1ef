"""Every shell example in README.md and docs/ runs, as written, against a live service.

The rules (also in docs/architecture.md):
- an `sh` or `bash` block is a script, run as written with `set -e -o pipefail`, and with `curl`
  failing on an HTTP error status; it holds no `$ ` prompts, so it pastes as it is;
- in a `console` block, `$ ` lines are commands (a trailing backslash continues one), and every
  other line is output that must appear in what they printed, unless it holds `…`;
- a block that cannot run here has `<!-- example: not run — <reason> -->` on the line before.
Each block runs in a fresh folder holding a copy of `examples/`, with `http://127.0.0.1:8000`
pointed at the test's server (`vertaal serve` and a live worker on the tiny models), and
`VERTAAL_API_KEY` set to a fresh key, as the docs show it set from `vertaal keys create`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import TinyModels, service_env
from tests.processes import ROOT, RedisServer, Worker, free_port, wait_for
from workers.connections import redis_client
from workers.operations.keys import KeyStore

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = ("sh", "bash", "console")
FENCE = re.compile(r"\s*```(\S*)\s*")
MARKER = re.compile(r"<!-- example: not run — (?P<reason>\S[^>]*?) -->")
DOCUMENTED_BASE = "http://127.0.0.1:8000"
PREAMBLE = 'set -e -o pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'


@dataclass(frozen=True)
class Example:
    page: Path
    line: int  # of the opening fence
    language: str
    body: str
    not_run: str | None  # the marker's reason

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples(page: Path) -> Iterator[Example]:
    lines = page.read_text().splitlines()
    number = 0
    while number < len(lines):
        opening = FENCE.fullmatch(lines[number])
        if opening is None:
            number += 1
            continue
        end = next(i for i in range(number + 1, len(lines)) if lines[i].strip() == "```")
        if opening[1] in SHELLS:
            marker = MARKER.fullmatch(lines[number - 1].strip()) if number else None
            indent = len(lines[number]) - len(lines[number].lstrip())
            body = "\n".join(line[indent:] for line in lines[number + 1 : end])
            yield Example(page, number + 1, opening[1], body, marker["reason"] if marker else None)
        number = end + 1


EXAMPLES = [example for page in PAGES for example in examples(page)]


def test_every_marker_names_a_reason_and_precedes_a_shell_block() -> None:
    problems = []
    for page in PAGES:
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if not line.strip().startswith("<!-- example:"):
                continue
            where = f"{page.relative_to(ROOT)}:{number}"
            if not MARKER.fullmatch(line.strip()):
                problems.append(f"{where}: write <!-- example: not run — <reason> -->")
            following = FENCE.fullmatch(lines[number]) if number < len(lines) else None
            if following is None or following[1] not in SHELLS:
                problems.append(f"{where}: the marker must be right above an sh or console block")
    assert not problems, "\n".join(problems)


def test_most_examples_run() -> None:
    """The markers are for the few that cannot run here, not a way out."""
    run = [example for example in EXAMPLES if example.not_run is None]
    assert len(run) >= 2 * (len(EXAMPLES) - len(run)), [e.name for e in EXAMPLES]


def console_parts(body: str) -> tuple[str, list[str]]:
    """A console block's commands, as a script, and the output lines to look for."""
    commands: list[str] = []
    output: list[str] = []
    continued = False
    for line in body.splitlines():
        if continued or line.startswith("$ "):
            commands.append(line.removeprefix("$ ") if not continued else line)
            continued = line.endswith("\\")
        elif line.strip() and "…" not in line:
            output.append(line.strip())
    return "\n".join(commands), output


@dataclass(frozen=True)
class LiveService:
    base: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def service(
    redis_server: RedisServer, live_worker: Worker, tiny_models: TinyModels
) -> Iterator[LiveService]:
    """`vertaal serve` on a free port, on the live worker's Redis and the tiny models."""
    base = f"http://127.0.0.1:{free_port()}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("VERTAAL_")}
    env |= service_env(tiny_models, redis_server.url)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `vertaal`
    server_env = env | {
        "VERTAAL_PORT": base.rsplit(":", 1)[1],
        "VERTAAL_WEB_PROCESSES": "1",
        # Other tests submit from this address too; the docs' examples never meet the limit.
        "VERTAAL_RATE_LIMIT": "10000/minute",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve"], env=server_env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 60, "the server and its worker to be ready")
        key = KeyStore(redis_client(redis_server.url)).create("docs examples").key
        yield LiveService(base, env | {"VERTAAL_API_KEY": key})
    finally:
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(timeout=30)


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(e, marks=pytest.mark.skip(reason=f"not run: {e.not_run}"), id=e.name)
        if e.not_run
        else pytest.param(e, id=e.name)
        for e in EXAMPLES
    ],
)
def test_example_runs(example: Example, service: LiveService, tmp_path: Path) -> None:
    if example.language == "console":
        script, expected = console_parts(example.body)
    else:
        assert not re.search(r"^\$ ", example.body, re.M), "a prompt would not paste: use console"
        script, expected = example.body, []
    script = script.replace(DOCUMENTED_BASE, service.base)
    assert not re.search(r"(localhost|127\.0\.0\.1):(8000|6379)", script), (
        f"write the service as {DOCUMENTED_BASE}, so that the test can point it at its own"
    )
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    ran = subprocess.run(
        ["bash", "-c", PREAMBLE + script], cwd=tmp_path, env=service.env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    printed = ran.stdout + ran.stderr
    report = f"{example.name}\n--- ran\n{script}\n--- printed\n{printed[-4000:]}"
    assert ran.returncode == 0, f"exit code {ran.returncode}: {report}"
    missing = [line for line in expected if line not in printed]
    assert not missing, f"output not printed: {missing}: {report}"
