"""Build the engines Settings ask for, once per process, falling back when `auto` must."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from workers.engines.memory import MemoryBudget
from workers.engines.protocols import Engines, Summarizer, Translator
from workers.engines.registry import FALLBACK, backend
from workers.engines.runtime import Runtime, runtime
from workers.engines.seq2seq import Generator, ModelFiles, Seq2SeqSummarizer, Seq2SeqTranslator
from workers.errors import INTERRUPTIONS, ConfigurationError, ModelUnavailableError
from workers.settings import Settings

log = logging.getLogger(__name__)

# (role, backend, seconds) of each model this process built, for the caller to report
# (`drain_load_times`): the engines know nothing of where metrics go.
_load_times: list[tuple[str, str, float]] = []


def drain_load_times() -> list[tuple[str, str, float]]:
    taken = _load_times[:]
    del _load_times[:]
    return taken


def build_generator(
    model_ref: str, role: str, chosen: Runtime, converted_root: Path
) -> tuple[ModelFiles, Generator, str]:
    """(model files, generator, the backend it runs on) for one model. A backend chosen by
    `auto` that cannot run the model gives way to the fallback backend."""
    files = ModelFiles.load(model_ref, role)
    try:
        return (
            files,
            backend(chosen.engine).build(files, role, chosen, converted_root),
            chosen.engine,
        )
    except INTERRUPTIONS:
        raise
    except Exception as error:  # unsupported model, precision or device
        if chosen.engine == FALLBACK:
            raise
        if chosen.required:
            if isinstance(error, ModelUnavailableError):
                raise
            raise ConfigurationError(f"{chosen.engine} cannot run {model_ref}: {error}") from error
        log.warning("%s cannot run %s (%s); using %s", chosen.engine, model_ref, error, FALLBACK)
    fallback = Runtime(FALLBACK, chosen.device, chosen.compute_type, chosen.threads)
    return files, backend(FALLBACK).build(files, role, fallback, converted_root), FALLBACK


@functools.cache
def _translator(
    model_ref: str, num_beams: int | None, chosen: Runtime, converted_root: Path
) -> Translator:
    files, generator, used = build_generator(model_ref, "translation", chosen, converted_root)
    return Seq2SeqTranslator(files, generator, num_beams=num_beams, backend=used)


@functools.cache
def _summarizer(
    model_ref: str,
    num_beams: int | None,
    min_tokens: int | None,
    max_tokens: int | None,
    chosen: Runtime,
    converted_root: Path,
) -> Summarizer:
    files, generator, used = build_generator(model_ref, "summary", chosen, converted_root)
    return Seq2SeqSummarizer(
        files, generator, num_beams=num_beams, min_tokens=min_tokens, max_tokens=max_tokens,
        backend=used,
    )  # fmt: skip


def load_engines(settings: Settings, *, summary: bool | None = None) -> Engines:
    """The engines `settings` ask for, built on first use and reused by this process."""
    chosen = runtime(settings)
    root = settings.converted_root()
    summarizer = None
    if settings.summary if summary is None else summary:
        summarizer = _summarizer(
            settings.summary_model, settings.summary_beams, settings.summary_min_tokens,
            settings.summary_max_tokens, chosen, root,
        )  # fmt: skip
    return Engines(
        translator=_translator(settings.translation_model, settings.num_beams, chosen, root),
        summarizer=summarizer,
        signed_backend=chosen.engine,
        memory=memory_budget(settings.worker_memory_mb),
    )


@functools.cache
def memory_budget(megabytes: int) -> MemoryBudget:
    """This process's budget: one, so what its batches teach it is kept."""
    return MemoryBudget(megabytes)
