"""The CTranslate2 backend, and the conversion of Hugging Face models it needs.

CTranslate2 runs converted, quantised copies of the models: int8 on CPU (its own figures:
4.7x transformers on OPUS-MT at a fifth of the memory), float16 on a GPU. Converted copies are
kept under VERTAAL_CONVERTED_DIR, keyed by model id, revision and quantisation, so an upgraded
model is converted again and never mixed up with an old one.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workers.engines.loading import ModelSource
from workers.engines.runtime import Runtime, count_in_child
from workers.engines.seq2seq import ModelFiles
from workers.errors import INTERRUPTIONS, ModelUnavailableError

log = logging.getLogger(__name__)


def converted_dir(root: Path, source: ModelSource, quantization: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source.ref).strip("_")[-80:] or "model"
    return root / f"{slug}--{source.revision}--{quantization}"


def is_converted(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def convert(source: ModelSource, root: Path, quantization: str) -> Path:
    """The converted copy of `source`, made now if there is none yet.

    One process converts while the others wait for it (a lock file per copy): converting holds
    the whole model in memory, and the worker processes all start on their first job at once.
    Written to a temporary folder and renamed into place, so a worker that dies mid-way never
    leaves a half-written model behind; the next conversion clears what it left.
    """
    target = converted_dir(root, source, quantization)
    if is_converted(target):
        return target
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        if not is_converted(target):  # another process may have made it while we waited
            _convert_locked(source, target, quantization)
    return target


def _convert_locked(source: ModelSource, target: Path, quantization: str) -> None:
    from ctranslate2.converters import TransformersConverter

    prefix = f".converting-{target.name}-"
    for leftover in target.parent.glob(prefix + "*"):  # from a process killed mid-way
        shutil.rmtree(leftover, ignore_errors=True)
    log.warning(
        "converting %s (revision %s) to CTranslate2 %s in %s; this happens once per model version",
        source.ref, source.revision, quantization, target,
    )  # fmt: skip
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix))
    try:
        TransformersConverter(str(source.path), low_cpu_mem_usage=True).convert(
            str(work / "model"), quantization=quantization, force=True
        )
        (work / "model").rename(target)
    except INTERRUPTIONS:
        raise
    except Exception as error:  # the converter raises many types for unsupported models
        raise ModelUnavailableError(
            f"Cannot convert '{source.ref}' to CTranslate2: {error}. "
            "Set VERTAAL_ENGINE=transformers to run it without CTranslate2."
        ) from error
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Ct2Generator:
    """Generation with a converted model; tokenization stays with the Hugging Face tokenizer,
    so both backends see exactly the same tokens.

    With `parallel_batches`, the CPU threads run parts of a batch side by side (one thread
    each) instead of sharing every matrix product: decoding many short sentences is made of
    small products that two threads split poorly (measured: 1.4x faster translation on 2
    cores). A summary is one long input, where threads sharing the work win.
    """

    def __init__(
        self,
        files: ModelFiles,
        model_dir: Path,
        *,
        device: str,
        compute_type: str,
        threads: int,
        parallel_batches: bool = False,
    ) -> None:
        import ctranslate2

        self.files = files
        self.parallel = threads if parallel_batches and device == "cpu" else 1
        self.translator = ctranslate2.Translator(
            str(model_dir),
            device=device,
            compute_type=compute_type,
            inter_threads=self.parallel,
            intra_threads=(threads // self.parallel) if device == "cpu" else 0,
        )
        generation = files.generation
        # The settings transformers takes from the generation config, passed on explicitly.
        self.options: dict[str, Any] = {
            "length_penalty": float(generation.get("length_penalty", 1.0)),
            "no_repeat_ngram_size": int(generation.get("no_repeat_ngram_size", 0)),
            "max_input_length": files.max_input_tokens,
        }
        forced_bos = generation.get("forced_bos_token_id")
        self.prefix = (
            [files.tokenizer.convert_ids_to_tokens(int(forced_bos))]
            if forced_bos is not None
            else None
        )

    def generate(
        self, texts: Sequence[str], *, num_beams: int, min_length: int, max_length: int
    ) -> list[str]:
        tokenizer = self.files.tokenizer
        encoded = tokenizer(list(texts), truncation=True, max_length=self.files.max_input_tokens)
        sources = [tokenizer.convert_ids_to_tokens(ids) for ids in encoded["input_ids"]]
        results = self.translator.translate_batch(
            sources,
            target_prefix=[self.prefix] * len(sources) if self.prefix else None,
            # Split so that every thread gets a part of the batch.
            max_batch_size=-(-len(sources) // self.parallel),
            beam_size=num_beams,
            min_decoding_length=min_length,
            max_decoding_length=max_length,
            **self.options,
        )
        return [
            tokenizer.decode(
                tokenizer.convert_tokens_to_ids(result.hypotheses[0]), skip_special_tokens=True
            ).strip()
            for result in results
        ]


def available() -> bool:
    return importlib.util.find_spec("ctranslate2") is not None


def cuda_devices() -> int:
    if not available():
        return 0
    return count_in_child("import ctranslate2; print(ctranslate2.get_cuda_device_count())")


def build(files: ModelFiles, role: str, chosen: Runtime, converted_root: Path) -> Ct2Generator:
    """A converted copy of the model (made now if needed) on CTranslate2."""
    model_dir = convert(files.source, converted_root, chosen.compute_type)
    return Ct2Generator(
        files, model_dir, device=chosen.device, compute_type=chosen.compute_type,
        threads=chosen.threads, parallel_batches=role == "translation",
    )  # fmt: skip
