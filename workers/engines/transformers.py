"""The transformers (PyTorch) backend: AutoModelForSeq2SeqLM.generate."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workers.engines.loading import load_seq2seq
from workers.engines.runtime import Runtime, count_in_child
from workers.engines.seq2seq import ModelFiles


def available() -> bool:
    return importlib.util.find_spec("torch") is not None


def cuda_devices() -> int:
    return count_in_child("import torch; print(torch.cuda.device_count())")


def build(
    files: ModelFiles, role: str, chosen: Runtime, converted_root: Path
) -> TransformersGenerator:
    return TransformersGenerator(files, role, device=chosen.device, threads=chosen.threads)


class TransformersGenerator:
    """Generation with the model's PyTorch weights; the model's generation config supplies
    everything not passed here (length penalty, forced tokens, n-gram blocking)."""

    def __init__(self, files: ModelFiles, role: str, *, device: str, threads: int) -> None:
        import torch

        # Set before the first inference; intra-op threads do the matrix work on CPU.
        torch.set_num_threads(threads)
        self.files = files
        self.device = device
        self.model: Any = load_seq2seq(files.source, role, device=device)

    def generate(
        self, texts: Sequence[str], *, num_beams: int, min_length: int, max_length: int
    ) -> list[str]:
        import torch

        tokenizer = self.files.tokenizer
        encoded = tokenizer(
            list(texts),
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.files.max_input_tokens,
        ).to(self.device)
        # Lengths here count generated tokens; transformers counts the decoder's start too.
        with torch.inference_mode():
            output = self.model.generate(
                **encoded,
                num_beams=num_beams,
                min_length=min_length + 1 if min_length else 0,
                max_length=max_length + 1,
            )
        return [text.strip() for text in tokenizer.batch_decode(output, skip_special_tokens=True)]
