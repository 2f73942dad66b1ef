"""Files and folders to outputs: atomic writes, fingerprints, and stopping a concurrent run."""

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cli import batch
from cli.batch import ArticleFile, fingerprint, output_identity, translate_files
from tests.processes import wait_for
from workers.errors import JobFailedError


class Silent:
    def started(self, article: ArticleFile) -> None: ...

    def progress(self, article: ArticleFile, done: int, total: int, stage: str) -> None: ...

    def finished(
        self, article: ArticleFile, outcome: str, reason: str | None, flagged: int = 0
    ) -> None: ...


@pytest.mark.usefixtures("ctrl_c")
def test_ctrl_c_during_a_concurrent_run_starts_no_further_article(tmp_path: Path) -> None:
    articles = []
    for i in range(12):
        (tmp_path / f"{i}.txt").write_text("De NAVO praat met Rusland.")
        articles.append(ArticleFile(tmp_path / f"{i}.txt", tmp_path / "o.json", tmp_path / "o.md"))
    started: list[str] = []
    threads_before = threading.active_count()

    def slow(article: ArticleFile, data: bytes, progress: object) -> Any:
        started.append(article.path.name)
        if len(started) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does, to the main thread
        time.sleep(0.5)
        raise JobFailedError("not translated in this test")

    with pytest.raises(KeyboardInterrupt):
        translate_files(articles, slow, Silent(), identity={}, concurrency=2)
    wait_for(lambda: threading.active_count() <= threads_before, 10, "the pool to wind down")
    assert len(started) <= 3, f"kept going after Ctrl-C: {started}"


def test_interrupted_write_leaves_no_half_written_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "article.json"
    target.write_text("old and complete")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batch.write_atomically(target, "new")
    assert target.read_text() == "old and complete"
    assert [p.name for p in tmp_path.iterdir()] == ["article.json"], "no temporary left behind"


def test_the_fingerprint_follows_input_options_and_models_only() -> None:
    models = {"translation": "t1", "summary": "s1"}
    base = fingerprint(b"tekst", output_identity(models, summary=True, check_language=True))
    variants = [
        fingerprint(b"tekst!", output_identity(models, summary=True, check_language=True)),
        fingerprint(b"tekst", output_identity(models, summary=False, check_language=True)),
        fingerprint(b"tekst", output_identity(models, summary=True, check_language=False)),
        fingerprint(
            b"tekst",
            output_identity({**models, "summary": "s2"}, summary=True, check_language=True),
        ),
    ]
    assert len({base, *variants}) == 5
    without = output_identity(models, summary=False, check_language=True)
    assert without == output_identity(
        {**models, "summary": "s2"}, summary=False, check_language=True
    ), "without a summary, the summary model does not matter"
