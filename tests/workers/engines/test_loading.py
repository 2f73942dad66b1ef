import shutil
from pathlib import Path

import pytest

from tests.conftest import TinyModels
from workers.engines import loading
from workers.engines.loading import ModelSource, resolve_model
from workers.engines.signature import output_signature, worker_signature
from workers.errors import ModelUnavailableError
from workers.settings import Settings


def test_local_directory_resolves_with_a_fingerprint(
    tiny_models: TinyModels, tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(tiny_models.translation, tmp_path / "marian"))
    source = resolve_model(str(copy), "translation")
    assert source.path == copy.resolve()
    assert source.revision.startswith("local-")
    assert resolve_model(str(copy), "translation").revision == source.revision
    (copy / "generation_config.json").write_text('{"num_beams": 3}')
    assert resolve_model(str(copy), "translation").revision != source.revision


def test_offline_hub_id_not_in_cache_gives_the_fix(empty_hub_cache: Path) -> None:
    with pytest.raises(ModelUnavailableError) as raised:
        resolve_model("Helsinki-NLP/opus-mt-nl-en", "translation")
    message = str(raised.value)
    assert "'Helsinki-NLP/opus-mt-nl-en'" in message
    assert "HF_HUB_OFFLINE" in message
    assert "vertaal models download" in message
    assert "VERTAAL_TRANSLATION_MODEL" in message


def test_failed_download_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> str:
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr("huggingface_hub.snapshot_download", no_network)
    with pytest.raises(ModelUnavailableError, match=r"downloading it failed \(ConnectionError"):
        loading._download("sshleifer/distilbart-cnn-12-6", "summary")


def test_directory_without_a_model_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"holds no config\.json"):
        resolve_model(str(tmp_path), "summary")
    with pytest.raises(ModelUnavailableError, match="VERTAAL_SUMMARY_MODEL"):
        resolve_model(str(tmp_path / "missing" / "model" / "dir"), "summary")


def test_broken_weights_are_explained(tiny_models: TinyModels, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_models.summary, tmp_path / "bart"))
    (copy / "model.safetensors").write_bytes(b"not weights")
    source = resolve_model(str(copy), "summary")
    with pytest.raises(ModelUnavailableError, match="weights do not load"):
        loading.load_seq2seq(source, "summary")


def test_output_signature_follows_settings_and_model_files(
    tiny_settings: Settings, tiny_models: TinyModels, tmp_path: Path
) -> None:
    base = output_signature(tiny_settings)
    assert output_signature(tiny_settings.model_copy(update={"batch_size": 1})) == base
    assert output_signature(tiny_settings.model_copy(update={"num_beams": 4})) != base
    without_summary = output_signature(tiny_settings.model_copy(update={"summary": False}))
    assert "summary" not in without_summary
    copy = Path(shutil.copytree(tiny_models.translation, tmp_path / "marian"))
    same = output_signature(tiny_settings.model_copy(update={"translation_model": str(copy)}))
    assert same["translation"]["revision"] == base["translation"]["revision"], "same files"
    (copy / "generation_config.json").write_text('{"num_beams": 5}')
    upgraded = output_signature(tiny_settings.model_copy(update={"translation_model": str(copy)}))
    assert upgraded["translation"]["revision"] != base["translation"]["revision"]


def test_a_workers_signature_names_the_summary_model_whenever_it_can_summarize(
    tiny_settings: Settings, tmp_path: Path
) -> None:
    """Jobs ask for summaries even when VERTAAL_SUMMARY is off; a changed summary model must
    change the cache keys of their results."""
    off = tiny_settings.model_copy(update={"summary": False})
    assert worker_signature(off) == output_signature(tiny_settings)
    assert (
        worker_signature(off.model_copy(update={"summary_beams": 2}))["summary"]
        != (worker_signature(off)["summary"])
    )
    missing = off.model_copy(update={"summary_model": str(tmp_path / "none")})
    assert "summary" not in worker_signature(missing), "no summary model: no summaries either"
    with pytest.raises(ModelUnavailableError):
        worker_signature(missing.model_copy(update={"summary": True}))


@pytest.mark.parametrize(
    ("path", "revision", "name"),
    [
        (
            "/srv/hf/hub/models--Helsinki-NLP--opus-mt-nl-en/snapshots/0123abcd",
            "0123abcd",
            "Helsinki-NLP/opus-mt-nl-en@0123abcd",
        ),
        ("/srv/models/marian-nl-en", "local-00ff", "marian-nl-en@local-00ff"),
    ],
)
def test_models_are_named_by_hub_id_or_folder_never_by_path(
    path: str, revision: str, name: str
) -> None:
    source = ModelSource(ref=path, path=Path(path), revision=revision)
    assert source.public_name == name
