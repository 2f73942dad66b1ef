"""A real Translator (the tiny model's tokenizer and limits) on the copy backend."""

from __future__ import annotations

import pytest

from tests.conftest import TinyModels, settings_for
from workers.engines import registry
from workers.engines.factory import load_engines
from workers.engines.protocols import Translator


@pytest.fixture
def copy_translator(monkeypatch: pytest.MonkeyPatch, tiny_models: TinyModels) -> Translator:
    monkeypatch.setitem(registry.BACKENDS, "copy", "tests.copy_backend")
    settings = settings_for(tiny_models, engine="copy", summary=False)
    return load_engines(settings).translator
