"""Backends by name: a new backend is one module here plus one line in BACKENDS.

A backend module offers:
    available() -> bool                      its runtime library is installed
    cuda_devices() -> int                    GPUs it can use (0 when it cannot use any)
    build(files, role, runtime, converted_root) -> Generator
Modules are imported only when a backend is used, so choosing one loads no other.
"""

from __future__ import annotations

import importlib
from types import ModuleType

BACKENDS: dict[str, str] = {
    "ctranslate2": "workers.engines.ctranslate2",
    "transformers": "workers.engines.transformers",
}
# What `auto` tries, best first; the last must always be available (it is the fallback).
AUTO_ORDER = ("ctranslate2", "transformers")
FALLBACK = AUTO_ORDER[-1]


def backend(name: str) -> ModuleType:
    return importlib.import_module(BACKENDS[name])
