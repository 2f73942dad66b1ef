import re

import pytest
from pydantic import ValidationError

from workers.settings import Settings, load_settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().translation_model == "Helsinki-NLP/opus-mt-nl-en"
    monkeypatch.setenv("VERTAAL_BATCH_SIZE", "4")
    monkeypatch.setenv("VERTAAL_NUM_BEAMS", "")  # empty means default, as in .env.example
    settings = Settings()
    assert settings.batch_size == 4
    assert settings.num_beams is None


def test_overrides_win_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTAAL_SUMMARY", "false")
    assert load_settings(summary=None).summary is False
    assert load_settings(summary=True).summary is True


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTAAL_BATCH_SIZE", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_every_setting_is_in_env_example_and_readme() -> None:
    from pathlib import Path

    root = Path(__file__).parents[2]
    example = (root / ".env.example").read_text()
    # The README and the topic pages in docs/ it is being split into.
    readme = "\n".join(p.read_text() for p in [root / "README.md", *sorted(root.glob("docs/*.md"))])
    for name in Settings.model_fields:
        variable = f"VERTAAL_{name.upper()}"
        assert f"{variable}=" in example, variable
        assert f"`{variable}`" in readme, variable
    compose = (root / "docker-compose.yml").read_text()
    for variable in set(re.findall(r"VERTAAL_[A-Z_]+[A-Z]", readme + compose)):
        assert f"{variable}=" in example, f"{variable} is used but not in .env.example"
        assert f"| `{variable}` |" in readme, f"{variable} is not in the README's table"
