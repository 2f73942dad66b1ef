"""DeepL's own Python test suite against a live Vertaal: `make interop DEEPL_TESTS=<checkout>`.

    make interop DEEPL_TESTS=../deepl-python
    (or: python -m bench.interop <checkout> [--url URL --auth-key KEY])

The suite is the `tests/` folder of a checkout of DeepLcom/deepl-python (it is not in the
PyPI package, and it is never copied into this repository). It runs against any server
given DEEPL_SERVER_URL and DEEPL_AUTH_KEY, in a virtual environment of its own
(.venv-interop: the checkout's client, pytest and pydantic<2, which its conftest needs).
Without --url, a Vertaal of its own is started on the test suite's tiny models (Redis,
`vertaal serve` with VERTAAL_REQUIRE_API_KEY, a worker) and a key is made for the run.

It prints one line per test with its outcome and, for a failure, the first line of the
reason, then the totals; docs/protocols.md explains which fail and why.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from click.testing import CliRunner

from bench.models import build_tiny_models
from bench.stack import running_service
from cli.main import main as vertaal

ROOT = Path(__file__).parents[1]
VENV = ROOT / ".venv-interop"


def interop_python(checkout: Path) -> Path:
    """The interop environment's Python, made on first use (the client from the checkout,
    so that the suite tests the client it was written for)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        packages = [str(checkout), "pytest>=8", "pydantic<2", "typing_extensions", "click"]
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    return python


def new_key(redis_url: str) -> str:
    result = CliRunner(env={"VERTAAL_REDIS_URL": redis_url}).invoke(
        vertaal, ["keys", "create", "--name", "deepl-interop"]
    )
    found = re.search(r"key:\s+(vk_\S+)", result.stdout)
    if result.exit_code != 0 or found is None:
        raise RuntimeError(f"could not create a key:\n{result.stdout}{result.stderr}")
    return found.group(1)


def run_suite(python: Path, checkout: Path, url: str, key: str, report: Path) -> None:
    env = {
        **os.environ, "DEEPL_SERVER_URL": url, "DEEPL_AUTH_KEY": key, "PYTHONPATH": "",
    }  # fmt: skip
    env.pop("DEEPL_MOCK_SERVER_PORT", None)  # "real server" mode: Vertaal is the server
    subprocess.run(
        [str(python), "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider",
         "--junitxml", str(report), "-o", "junit_family=xunit1"],
        cwd=checkout, env=env, check=False,
    )  # fmt: skip


def outcomes(report: Path) -> list[tuple[str, str, str]]:
    """(test, outcome, first line of the reason) per test case of a JUnit report."""
    found = []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').removeprefix('tests.')}::{case.get('name')}"
        outcome, reason = "passed", ""
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                reason = (element.get("message") or element.text or "").strip().splitlines()
                reason = reason[0][:110] if reason else ""
        found.append((name, outcome, reason))
    return found


def print_table(found: list[tuple[str, str, str]]) -> None:
    for name, outcome, reason in found:
        print(f"{outcome:<8} {name}" + (f"\n         {reason}" if reason else ""))
    totals = Counter(outcome for _, outcome, _ in found)
    print(", ".join(f"{count} {outcome}" for outcome, count in sorted(totals.items())))


def start_vertaal(stack: ExitStack, folder: Path) -> tuple[str, str]:
    """Vertaal on the tiny models, keys required, and a key: (its URL, the key). The worker
    is started once the web answers (readiness, with keys required, needs a key itself)."""
    models = build_tiny_models(folder / "models")
    settings = {"VERTAAL_REQUIRE_API_KEY": "1", "VERTAAL_SHORT_WAIT": "60"}
    service = stack.enter_context(running_service(models, [], settings))
    env = {
        **os.environ, **settings, "VERTAAL_REDIS_URL": service.redis_url, "HF_HUB_OFFLINE": "1",
        "VERTAAL_TRANSLATION_MODEL": str(models.translation),
        "VERTAAL_SUMMARY_MODEL": str(models.summary),
    }  # fmt: skip
    log = stack.enter_context((folder / "worker.log").open("wb"))
    worker = subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=env, cwd=ROOT, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    stack.callback(worker.wait, 60)
    stack.callback(worker.terminate)
    key = new_key(service.redis_url)
    deadline = time.monotonic() + 300
    while b"ready." not in (folder / "worker.log").read_bytes():
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError((folder / "worker.log").read_text(errors="replace")[-3000:])
        time.sleep(0.5)
    return service.url, key


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a checkout of DeepLcom/deepl-python")
    parser.add_argument("--url", help="a running Vertaal (default: start one)")
    parser.add_argument("--auth-key", help="a Vertaal key for --url")
    options = parser.parse_args(argv)
    checkout = options.checkout.resolve()
    if not (checkout / "tests" / "conftest.py").is_file():
        parser.error(f"{checkout} holds no tests/conftest.py: give a deepl-python checkout")
    python = interop_python(checkout)
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url, key = options.url, options.auth_key
        if url is None:
            url, key = start_vertaal(stack, folder)
        elif key is None:
            parser.error("--url needs --auth-key")
        run_suite(python, checkout, url, key, folder / "report.xml")
        print_table(outcomes(folder / "report.xml"))


if __name__ == "__main__":
    main()
