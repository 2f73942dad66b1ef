"""Model backends behind one small protocol, chosen by settings and loaded once per process.

The pipeline sees only `Translator` and `Summarizer`; whether transformers or CTranslate2 runs
them is a setting (`VERTAAL_ENGINE`). Nothing here imports torch until an engine is built.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workers.errors import INTERRUPTIONS, ConfigurationError, ModelUnavailableError
from workers.settings import Settings

log = logging.getLogger(__name__)


class Translator(Protocol):
    """Translates batches of sentences; knows its input limit and how to count tokens."""

    model_ref: str
    num_beams: int
    max_input_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def translate_batch(self, texts: Sequence[str]) -> list[str]: ...


class Summarizer(Protocol):
    """Summarizes batches of texts that each fit `max_input_tokens`."""

    model_ref: str
    num_beams: int
    max_input_tokens: int
    max_summary_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def summarize_batch(self, texts: Sequence[str]) -> list[str]: ...


@dataclass(frozen=True)
class Engines:
    translator: Translator
    summarizer: Summarizer | None
    # False when `auto` fell back to transformers because CTranslate2 could not run a model:
    # the results are then not what the output signature names, and must not be cached.
    as_signed: bool = True


@dataclass(frozen=True)
class Runtime:
    """Which backend runs the models, where, and at what precision."""

    engine: str
    device: str
    compute_type: str
    threads: int
    # True when CTranslate2 was asked for by name: then failing to use it is an error, while
    # `auto` falls back to transformers.
    required: bool = False


# Models (reference, role, runtime) this process runs on transformers although the runtime
# chose CTranslate2.
_fell_back: set[tuple[str, str, Runtime]] = set()


def ctranslate2_installed() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


@functools.cache
def _cuda_devices() -> int:
    """GPUs CTranslate2 can use, counted in a child process: counting initialises CUDA, and a
    CUDA context inherited through fork is unusable in the worker's prefork children."""
    if not ctranslate2_installed():
        return 0
    count = subprocess.run(
        [sys.executable, "-c", "import ctranslate2; print(ctranslate2.get_cuda_device_count())"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    try:
        return int(count.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        log.warning("could not count CUDA devices (%s); using the CPU", count.stderr.strip())
        return 0


def runtime(settings: Settings) -> Runtime:
    """The runtime `settings` ask for, resolved without loading any model."""
    engine = settings.engine
    if engine == "ctranslate2" and not ctranslate2_installed():
        raise ConfigurationError("VERTAAL_ENGINE=ctranslate2, but ctranslate2 is not installed")
    if engine == "auto":
        engine = "ctranslate2" if ctranslate2_installed() else "transformers"
    device = settings.device
    if device == "auto":
        device = "cuda" if _cuda_devices() else "cpu"
    compute_type = settings.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return Runtime(
        engine, device, compute_type, settings.inference_threads(),
        required=settings.engine == "ctranslate2",
    )  # fmt: skip


def output_signature(settings: Settings, *, summary: bool | None = None) -> dict[str, Any]:
    """Everything that decides what an article's result will be, found without loading a
    model: model versions come from their files, so an upgraded model changes it. The
    "translation" part alone decides single-sentence translations. The summary part is there
    when `summary` (default: the `summary` setting) is true."""
    from workers.engines.loading import resolve_model

    chosen = runtime(settings)
    backend = {"engine": chosen.engine}
    if chosen.engine == "ctranslate2":
        backend["compute_type"] = chosen.compute_type
    signature: dict[str, Any] = {
        "translation": {
            "model": settings.translation_model,
            "revision": resolve_model(settings.translation_model, "translation").revision,
            "num_beams": settings.num_beams,
            **backend,
        },
        "max_sentence_tokens": settings.max_sentence_tokens,
    }
    if settings.summary if summary is None else summary:
        signature["summary"] = {
            "model": settings.summary_model,
            "revision": resolve_model(settings.summary_model, "summary").revision,
            "num_beams": settings.summary_beams,
            "min_tokens": settings.summary_min_tokens,
            "max_tokens": settings.summary_max_tokens,
            **backend,
        }
    return signature


def worker_signature(settings: Settings) -> dict[str, Any]:
    """The signature of a worker's results. A job may ask for a summary even when
    VERTAAL_SUMMARY is off, so the summary model is part of it whenever it is installed:
    otherwise a changed summary model would keep its predecessor's cached summaries."""
    try:
        return output_signature(settings, summary=True)
    except ModelUnavailableError:
        if settings.summary:
            raise
        return output_signature(settings, summary=False)


def load_engines(settings: Settings, *, summary: bool | None = None) -> Engines:
    """The engines `settings` ask for, built on first use and reused by this process."""
    want_summary = settings.summary if summary is None else summary
    chosen = runtime(settings)
    translator = _translator(
        settings.translation_model, settings.num_beams, chosen, settings.converted_root()
    )
    summarizer = None
    if want_summary:
        summarizer = _summarizer(
            settings.summary_model,
            settings.summary_beams,
            settings.summary_min_tokens,
            settings.summary_max_tokens,
            chosen,
            settings.converted_root(),
        )
    used = {(settings.translation_model, "translation", chosen)}
    if want_summary:
        used.add((settings.summary_model, "summary", chosen))
    return Engines(translator=translator, summarizer=summarizer, as_signed=not used & _fell_back)


def build_generator(model_ref: str, role: str, chosen: Runtime, converted_root: Any) -> Any:
    """(model files, generator) for one model on the chosen runtime; CTranslate2 converts the
    model first when needed, and `auto` falls back to transformers if that is impossible."""
    from workers.engines.seq2seq import ModelFiles

    files = ModelFiles.load(model_ref, role)
    if chosen.engine == "ctranslate2":
        from workers.engines.ctranslate2 import Ct2Generator, convert

        try:
            model_dir = convert(files.source, converted_root, chosen.compute_type)
            generator = Ct2Generator(
                files, model_dir, device=chosen.device, compute_type=chosen.compute_type,
                threads=chosen.threads, parallel_batches=role == "translation",
            )  # fmt: skip
            return files, generator
        except INTERRUPTIONS:
            raise
        except Exception as error:  # unsupported model, precision or device
            if chosen.required:
                if isinstance(error, ModelUnavailableError):
                    raise
                raise ConfigurationError(f"CTranslate2 cannot run {model_ref}: {error}") from error
            log.warning("CTranslate2 cannot run %s (%s); using transformers", model_ref, error)
            _fell_back.add((model_ref, role, chosen))
    from workers.engines.transformers import TransformersGenerator

    device = chosen.device
    return files, TransformersGenerator(files, role, device=device, threads=chosen.threads)


@functools.cache
def _translator(
    model_ref: str, num_beams: int | None, chosen: Runtime, converted_root: Any
) -> Translator:
    from workers.engines.seq2seq import Seq2SeqTranslator

    files, generator = build_generator(model_ref, "translation", chosen, converted_root)
    return Seq2SeqTranslator(files, generator, num_beams=num_beams)


@functools.cache
def _summarizer(
    model_ref: str,
    num_beams: int | None,
    min_tokens: int | None,
    max_tokens: int | None,
    chosen: Runtime,
    converted_root: Any,
) -> Summarizer:
    from workers.engines.seq2seq import Seq2SeqSummarizer

    files, generator = build_generator(model_ref, "summary", chosen, converted_root)
    return Seq2SeqSummarizer(
        files, generator, num_beams=num_beams, min_tokens=min_tokens, max_tokens=max_tokens
    )
