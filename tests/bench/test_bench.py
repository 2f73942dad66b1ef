"""The benchmark's machinery, run end to end on the tiny models so it cannot rot unnoticed.
Its figures mean nothing here; `make bench` measures the published architectures."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import run, summary_batches
from bench.models import BenchModels, cache_root
from tests.conftest import TinyModels
from tests.processes import ROOT


@pytest.fixture
def bench_cache(tiny_env: TinyModels, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The tiny models stand where the benchmark keeps the ones it builds, so it builds none."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    shutil.copytree(tiny_env.translation, cache_root() / "opus-mt-nl-en")
    shutil.copytree(tiny_env.summary, cache_root() / "distilbart-cnn-12-6")
    monkeypatch.setattr(run, "SUMMARY_TOKENS", 20)  # the tiny summarizer reads 256 tokens


@pytest.mark.usefixtures("bench_cache")
def test_benchmark_runs_every_variant_and_prints_the_summary_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run.main(["--rounds", "1", "--sustained", "2", "--budgets", "1536"])
    lines = capsys.readouterr().out.strip().splitlines()
    for label in run.LABELS.values():
        assert any(line.startswith(label) for line in lines), label
    assert any(line.startswith("(c) spent") for line in lines)
    assert sum(line.startswith("pair ") for line in lines) == 2
    assert any(line.startswith("overhead_vs_raw ") and "3 timings each" in line for line in lines)
    # timed, in the memory table, then in the variants' table
    assert sum(line.startswith("sustained, 2 queued") for line in lines) == 6
    timeline = lines.index(next(line for line in lines if line.startswith("timeline of")))
    stages = [line.split()[0] for line in lines[timeline + 2 : timeline + 12]]
    assert stages == ["idle", "claim", "load", "read", "translate", "summarize", "write",
                      "other", "outside", "wall"]  # fmt: skip
    explained = sum(float(line.split()[1]) for line in lines[timeline + 2 : timeline + 11])
    assert explained == pytest.approx(float(lines[timeline + 11].split()[1]), abs=0.3)
    assert any(line.startswith("stage floor: the same 2 articles") for line in lines)
    assert re.fullmatch(
        r"speedup_vs_plain=\d+\.\d overhead_vs_raw=\d+\.\d\d articles_per_min=\d+\.\d "
        r"sustained_articles_per_min=\d+\.\d rss_mb=\d+ stage_floor_per_min=\d+\.\d",
        lines[-1],
    )


@pytest.mark.usefixtures("bench_cache")
def test_summary_batch_benchmark_times_each_batch_size(capsys: pytest.CaptureFixture[str]) -> None:
    summary_batches.main(["--texts", "3", "--tokens", "60", "--sizes", "1,2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines[-2:]] == ["batches of 1", "batches of 2"]
    assert "1.00x" in lines[-2]
    assert all("KB per input token and beam" in line for line in lines[-2:])


def test_raw_replay_makes_the_same_calls_as_the_pipeline(tiny_env: TinyModels) -> None:
    models = BenchModels(tiny_env.translation, tiny_env.summary)
    articles = run.load_articles()
    recorder = run.Recorder()
    pipeline = recorder.attach(run.VertaalPipeline(models, "ctranslate2"))
    for article in articles:
        recorder.article = article.name
        pipeline(article)
    replay = run.RawCTranslate2(models, recorder.calls)
    replayed = run.Recorder()
    for role, translator in replay.translators.items():
        replay.translators[role] = replayed._wrap(role, translator)
    for article in articles:
        replayed.article = article.name
        replay(article)
    assert replayed.calls == recorder.calls
    roles = {call.role for calls in recorder.calls.values() for call in calls}
    assert roles == {"translation", "summary"}


def test_short_text_benchmark_runs_both_set_ups_and_prints_the_summary_line(
    tiny_models: TinyModels, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import short

    options = ["--requests", "3", "--shared-requests", "2", "--articles", "2"]
    short.run(
        BenchModels(tiny_models.translation, tiny_models.summary),
        short.parser().parse_args(options),
        {"VERTAAL_CONVERTED_DIR": str(tiny_models.converted), "VERTAAL_THREADS": "1"},
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert any(line.startswith("deployed ") for line in lines)
    assert any(line.startswith("shared ") for line in lines)
    assert re.fullmatch(
        r"short_p50_ms=\d+ short_p99_ms=\d+ shared_p50_ms=\d+ shared_p99_ms=\d+ "
        r"p50_ratio=\d+\.\d",
        lines[-1],
    )


def test_folder_benchmark_translates_the_folder_and_compares_with_a_live_worker() -> None:
    # In a process of its own: it forces the translator's lengths for the whole process, and
    # runs `vertaal translate` with its signal handlers.
    command = [sys.executable, "-m", "bench.folder", "--tiny", "--articles", "2", "--sustained"]
    answer = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert answer.returncode == 0, answer.stderr[-3000:]
    lines = answer.stdout.strip().splitlines()
    assert re.fullmatch(
        r"folder_articles_per_min=\d+\.\d sustained_articles_per_min=\d+\.\d ratio=\d+\.\d\d",
        lines[-1],
    )
