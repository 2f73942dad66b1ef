"""Which backend runs the models, on which device, at what precision: resolved from Settings
without loading any model."""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
from dataclasses import dataclass

from workers.engines.registry import AUTO_ORDER, BACKENDS, backend
from workers.errors import ConfigurationError
from workers.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    engine: str
    device: str
    compute_type: str
    threads: int
    # True when the backend was asked for by name: then failing to use it is an error, while
    # `auto` falls back to the always-available one.
    required: bool = False


def count_in_child(statement: str) -> int:
    """The number `statement` prints, run in a child process: counting GPUs initialises CUDA,
    and a CUDA context inherited through fork is unusable in the worker's prefork children."""
    count = subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    try:
        return int(count.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        log.warning("could not count CUDA devices (%s); using the CPU", count.stderr.strip())
        return 0


@functools.cache
def _cuda_devices(engine: str) -> int:
    return int(backend(engine).cuda_devices())


def runtime(settings: Settings) -> Runtime:
    engine = settings.engine
    if engine == "auto":
        engine = next(name for name in AUTO_ORDER if backend(name).available())
    elif engine not in BACKENDS:
        raise ConfigurationError(
            f"VERTAAL_ENGINE={engine} is unknown; use auto or one of {', '.join(BACKENDS)}"
        )
    elif not backend(engine).available():
        raise ConfigurationError(f"VERTAAL_ENGINE={engine}, but {engine} is not installed")
    device = settings.device
    if device == "auto":
        device = "cuda" if _cuda_devices(engine) else "cpu"
    compute_type = settings.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return Runtime(
        engine, device, compute_type, settings.inference_threads(),
        required=settings.engine != "auto",
    )  # fmt: skip
