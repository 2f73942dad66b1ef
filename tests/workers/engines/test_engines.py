"""Engine choice, CTranslate2 conversion, and both backends honouring the same settings."""

import logging
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded

import workers.engines.ctranslate2
from tests.conftest import ARTICLES, TinyModels, settings_for
from workers.engines.ctranslate2 import convert, converted_dir
from workers.engines.factory import build_generator, load_engines
from workers.engines.loading import resolve_model
from workers.engines.protocols import Engines
from workers.engines.runtime import Runtime, runtime
from workers.engines.seq2seq import ModelFiles, Seq2SeqSummarizer, Seq2SeqTranslator
from workers.errors import ConfigurationError
from workers.pipeline.reading import read_path
from workers.pipeline.run import RunOptions, translate_article
from workers.settings import Settings


def test_auto_prefers_ctranslate2_int8_on_cpu() -> None:
    chosen = runtime(Settings(threads=2))
    assert chosen == Runtime("ctranslate2", "cpu", "int8", 2, required=False)
    assert runtime(Settings(engine="transformers")).engine == "transformers"
    assert runtime(Settings(engine="ctranslate2", compute_type="float32")).required


def test_without_ctranslate2_auto_uses_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers.engines.ctranslate2, "available", lambda: False)
    assert runtime(Settings()).engine == "transformers"
    with pytest.raises(ConfigurationError, match="ctranslate2 is not installed"):
        runtime(Settings(engine="ctranslate2"))


def test_conversion_is_kept_and_keyed_by_revision(
    tiny_models: TinyModels, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = Path(shutil.copytree(tiny_models.translation, tmp_path / "marian"))
    source = resolve_model(str(copy), "translation")
    with caplog.at_level(logging.WARNING):
        first = convert(source, tmp_path / "ct2", "int8")
    assert first == converted_dir(tmp_path / "ct2", source, "int8")
    assert source.revision in first.name and first.name.endswith("--int8")
    assert "converting" in caplog.text and "once per model version" in caplog.text
    stamp = (first / "model.bin").stat().st_mtime_ns

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert convert(source, tmp_path / "ct2", "int8") == first
    assert "converting" not in caplog.text, "kept, not converted again"
    assert (first / "model.bin").stat().st_mtime_ns == stamp

    (copy / "generation_config.json").write_text('{"num_beams": 3}')  # an upgraded model
    upgraded = convert(resolve_model(str(copy), "translation"), tmp_path / "ct2", "int8")
    assert upgraded != first and (upgraded / "model.bin").is_file()
    assert not list((tmp_path / "ct2").glob(".converting-*")), "no leftovers"


def test_processes_starting_together_convert_once_and_clear_a_dead_ones_leftovers(
    tiny_models: TinyModels, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = Path(shutil.copytree(tiny_models.translation, tmp_path / "marian"))
    source = resolve_model(str(copy), "translation")
    root = tmp_path / "ct2"
    leftover = root / f".converting-{converted_dir(root, source, 'int8').name}-killed"
    (leftover / "model").mkdir(parents=True)
    with caplog.at_level(logging.WARNING), ThreadPoolExecutor(3) as pool:
        made = list(pool.map(lambda _: convert(source, root, "int8"), range(3)))
    assert len(set(made)) == 1 and (made[0] / "model.bin").is_file()
    assert caplog.text.count("converting") == 1, "the others waited and used its copy"
    assert not leftover.exists()


def test_auto_falls_back_to_transformers_when_conversion_fails(
    tiny_models: TinyModels,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any) -> Path:
        raise RuntimeError("unsupported architecture")

    monkeypatch.setattr("workers.engines.ctranslate2.convert", broken)
    chosen = Runtime("ctranslate2", "cpu", "int8", 1)
    with caplog.at_level(logging.WARNING):
        _, generator, used = build_generator(
            str(tiny_models.translation), "translation", chosen, tmp_path
        )
    assert type(generator).__name__ == "TransformersGenerator" and used == "transformers"
    assert "ctranslate2 cannot run" in caplog.text

    # Results of the fallback are not what the signature (ctranslate2, int8) names.
    copy = shutil.copytree(tiny_models.translation, tmp_path / "marian")
    settings = Settings(translation_model=str(copy), converted_dir=tmp_path / "ct2", threads=1)
    fell_back = load_engines(settings, summary=False)
    assert fell_back.translator.backend == "transformers" and not fell_back.as_signed
    assert load_engines(
        Settings(translation_model=str(copy), engine="transformers"), summary=False
    ).as_signed

    required = Runtime("ctranslate2", "cpu", "int8", 1, required=True)
    with pytest.raises(ConfigurationError, match="unsupported architecture"):
        build_generator(str(tiny_models.translation), "translation", required, tmp_path)


def test_the_soft_time_limit_is_not_mistaken_for_an_unconvertible_model(
    tiny_models: TinyModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def out_of_time(*args: Any) -> Path:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("workers.engines.ctranslate2.convert", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        build_generator(
            str(tiny_models.translation), "translation", Runtime("ctranslate2", "cpu", "int8", 1),
            tmp_path,
        )  # fmt: skip


class Spy:
    """Wraps a generator and records what each call asked for."""

    def __init__(self, generator: Any) -> None:
        self.generator = generator
        self.calls: list[dict[str, Any]] = []

    def generate(self, texts: Sequence[str], **settings: int) -> list[str]:
        self.calls.append(settings)
        return list(self.generator.generate(texts, **settings))


@pytest.mark.parametrize("engine", ["ctranslate2", "transformers"])
def test_both_engines_honour_beams_lengths_and_batches(
    engine: str, tiny_models: TinyModels
) -> None:
    settings = settings_for(
        tiny_models,
        engine=engine,
        num_beams=3,
        summary_beams=2,
        summary_min_tokens=4,
        summary_max_tokens=9,
        batch_size=5,
        names=False,  # no terms: no sentence goes to the model twice for a missing one
    )
    loaded = load_engines(settings)
    assert isinstance(loaded.translator, Seq2SeqTranslator)
    assert isinstance(loaded.summarizer, Seq2SeqSummarizer)
    translation_spy, summary_spy = (
        Spy(loaded.translator.generator),
        Spy(loaded.summarizer.generator),
    )
    translator = Seq2SeqTranslator(
        loaded.translator.files, translation_spy, num_beams=3, backend=engine
    )
    summarizer = Seq2SeqSummarizer(
        loaded.summarizer.files, summary_spy, num_beams=2, min_tokens=4, max_tokens=9,
        backend=engine,
    )  # fmt: skip
    result = translate_article(
        read_path(ARTICLES / "sherman-brussels-talks.txt"),
        Engines(translator, summarizer),
        RunOptions.from_settings(settings),
    )
    assert {call["num_beams"] for call in translation_spy.calls} == {3}
    assert all(call["max_length"] <= 2 * 200 + 8 for call in translation_spy.calls)
    sentences = sum(len(p) for p in result.source.paragraphs)
    assert len(translation_spy.calls) == -(-sentences // 5), "batches of 5"
    assert {call["num_beams"] for call in summary_spy.calls} == {2}
    assert {call["max_length"] for call in summary_spy.calls} == {9}
    assert {call["min_length"] for call in summary_spy.calls} == {4}
    assert [len(p) for p in result.translation.paragraphs] == [
        len(p) for p in result.source.paragraphs
    ]


def test_model_files_read_generation_defaults(tiny_models: TinyModels) -> None:
    files = ModelFiles.load(str(tiny_models.summary), "summary")
    assert files.generation["num_beams"] == 2
    summarizer = Seq2SeqSummarizer(
        files, Spy(None), num_beams=None, min_tokens=None, max_tokens=None, backend="spy"
    )
    assert summarizer.num_beams == 2
    assert (summarizer.min_summary_tokens, summarizer.max_summary_tokens) == (5, 23), (
        "generation-config lengths count the decoder's start token; these count generated tokens"
    )
