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
