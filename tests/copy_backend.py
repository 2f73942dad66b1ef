"""A backend whose translation of a text is the text itself.

Registered as `copy` only by the `copy_translator` fixture (tests/workers/pipeline/terms/
conftest.py), never by product code: what the pipeline sends to the model comes back
unchanged, so a test sees exactly what the model was given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def available() -> bool:
    return True


def cuda_devices() -> int:
    return 0


class CopyGenerator:
    def generate(self, texts: Sequence[str], **settings: int) -> list[str]:
        return list(texts)


def build(files: Any, role: str, chosen: Any, converted_root: Path) -> CopyGenerator:
    return CopyGenerator()
