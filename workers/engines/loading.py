"""Find a model (hub id or local directory) and load it, or say exactly how to make it loadable.

A hub id is looked up in the local Hugging Face cache first and downloaded only when it is
missing and `HF_HUB_OFFLINE` is not set, as `from_pretrained` would. Every failure becomes one
ModelUnavailableError naming the model, the setting, and the fix. transformers is imported
only when a model is actually loaded, so resolving a model stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.errors import INTERRUPTIONS, ModelUnavailableError

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

# What a seq2seq checkpoint needs; skips TF/Flax/Rust/ONNX weights that hub repos also carry.
MODEL_FILE_PATTERNS = [
    "*.json",
    "*.spm",
    "*.model",
    "*.txt",
    "*.safetensors",
    "pytorch_model.bin",
]
# The tokenizers of the default models' architectures (used when a model's files do not name
# their tokenizer class, as the published ones do not).
DIRECT_TOKENIZERS = {"marian": "MarianTokenizer", "bart": "BartTokenizer"}
# How the Hugging Face cache names a model's folder: models--<owner>--<name>.
HUB_REPO_PREFIX = "models--"
ROLE_VARIABLES = {"translation": "VERTAAL_TRANSLATION_MODEL", "summary": "VERTAAL_SUMMARY_MODEL"}


@dataclass(frozen=True)
class ModelSource:
    """A model ready to load: what was configured, where its files are, which version."""

    ref: str
    path: Path
    revision: str

    @property
    def public_name(self) -> str:
        """How results and pages name the model: `hub-id@commit` for a model from the hub
        (or a directory that is a snapshot in a hub cache), `folder@local-…` for another
        directory; never a path on this server."""
        if self.path.parent.name == "snapshots" and self.path.parent.parent.name.startswith(
            HUB_REPO_PREFIX
        ):  # a snapshot in a Hugging Face cache: models--<owner>--<name>/snapshots/<commit>
            repo = self.path.parent.parent.name.removeprefix(HUB_REPO_PREFIX).replace("--", "/")
            return f"{repo}@{self.path.name}"
        return f"{self.path.name}@{self.revision}"


def _unavailable(ref: str, role: str, problem: str) -> ModelUnavailableError:
    variable = ROLE_VARIABLES.get(role, "the model setting")
    return ModelUnavailableError(
        f"Cannot load the {role} model '{ref}': {problem}. To fix it, either run "
        f"`vertaal models download` on a machine that can reach huggingface.co (then copy "
        f"its Hugging Face cache, ~/.cache/huggingface or $HF_HOME, to this machine), or set "
        f"{variable} to a local directory holding the model (config.json, weights and "
        f"tokenizer files, as written by save_pretrained)."
    )


def resolve_model(ref: str, role: str, *, download: bool = True) -> ModelSource:
    """Locate the files of model `ref` (a directory, or a hub id in the cache or online)."""
    if Path(ref).expanduser().is_dir():
        path = Path(ref).expanduser().resolve()
        if not (path / "config.json").is_file():
            raise _unavailable(ref, role, f"the directory {path} holds no config.json")
        return ModelSource(ref=ref, path=path, revision=_directory_fingerprint(path))

    from huggingface_hub import is_offline_mode, snapshot_download
    from huggingface_hub.errors import HFValidationError

    try:
        path = Path(
            snapshot_download(ref, local_files_only=True, allow_patterns=MODEL_FILE_PATTERNS)
        )
    except HFValidationError:
        raise _unavailable(
            ref, role, "it is neither an existing directory nor a valid hub id"
        ) from None
    except OSError:
        if is_offline_mode():
            raise _unavailable(
                ref, role, "it is not in the local Hugging Face cache and HF_HUB_OFFLINE is set"
            ) from None
        if not download:
            raise _unavailable(ref, role, "it is not in the local Hugging Face cache") from None
        path = _download(ref, role)
    return ModelSource(ref=ref, path=path, revision=path.name)


def _download(ref: str, role: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(ref, allow_patterns=MODEL_FILE_PATTERNS))
    except INTERRUPTIONS:
        raise
    except Exception as error:  # the hub client raises many network and HTTP error types
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        reason = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
        raise _unavailable(
            ref, role, f"it is not in the local cache and downloading it failed ({reason})"
        ) from None


def download_model(ref: str, role: str) -> ModelSource:
    """Make sure model `ref` is in the local Hugging Face cache (for `vertaal models download`)."""
    return resolve_model(ref, role, download=True)


def _directory_fingerprint(path: Path) -> str:
    """A local model's stand-in for a hub revision: changes when its files change."""
    digest = hashlib.sha256((path / "config.json").read_bytes())
    for entry in sorted(path.iterdir()):
        if entry.is_file():
            stat = entry.stat()
            digest.update(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return "local-" + digest.hexdigest()[:16]


def _tokenizer_class(path: Path) -> Any:
    """The tokenizer class for the model at `path`, imported on its own when possible:
    AutoTokenizer imports torch (180 MB resident), which a CTranslate2 worker never needs."""
    import transformers

    settings_file = path / "tokenizer_config.json"
    settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
    model_type = json.loads((path / "config.json").read_text()).get("model_type")
    name = settings.get("tokenizer_class") or DIRECT_TOKENIZERS.get(model_type)
    return getattr(transformers, name, None) if name else None


def load_tokenizer(source: ModelSource, role: str) -> PreTrainedTokenizerBase:
    try:
        tokenizer_class = _tokenizer_class(source.path)
        if tokenizer_class is None:
            from transformers import AutoTokenizer

            tokenizer_class = AutoTokenizer
        return tokenizer_class.from_pretrained(source.path)
    except INTERRUPTIONS:
        raise
    except Exception as error:  # corrupt files surface as many library-specific types
        raise _unavailable(source.ref, role, f"its tokenizer does not load ({error})") from None


def load_seq2seq(source: ModelSource, role: str, *, device: str = "cpu") -> PreTrainedModel:
    from transformers import AutoModelForSeq2SeqLM

    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(source.path)
    except INTERRUPTIONS:
        raise
    except Exception as error:  # e.g. SafetensorError, which is not an OSError
        raise _unavailable(source.ref, role, f"its weights do not load ({error})") from None
    model.to(device)
    return model.eval()


def quiet_transformers() -> None:
    """Keep transformers' download/loading progress bars out of the CLI's own progress."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()
