"""Random-weight models with the published architectures of the default models, built once.

No model hub is reachable, so the benchmark measures speed on models that have exactly the
architecture, vocabulary size and generation defaults of Helsinki-NLP/opus-mt-nl-en and
sshleifer/distilbart-cnn-12-6 (their published configs are in bench/configs/), with random
weights. Output lengths are forced, so random weights cannot change the amount of work. They
say nothing about translation quality.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tests.model_factory import build_bart, build_marian

CONFIGS = Path(__file__).parent / "configs"
EXAMPLES = Path(__file__).parents[1] / "examples"
# Bump when the way models are built changes, so cached copies are rebuilt.
BUILD_VERSION = "4"


@dataclass(frozen=True)
class BenchModels:
    translation: Path
    summary: Path


def _published(name: str) -> tuple[dict[str, object], dict[str, object]]:
    config = json.loads((CONFIGS / f"{name}.config.json").read_text())
    generation = json.loads((CONFIGS / f"{name}.generation_config.json").read_text())
    for key in ("architectures", "model_type"):
        config.pop(key, None)
    return config, generation


def cache_root() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "vertaal" / f"bench-models-v{BUILD_VERSION}"


def example_corpus() -> list[str]:
    return [
        line for path in sorted(EXAMPLES.glob("*.txt")) for line in path.read_text().splitlines()
        if line.strip()
    ]  # fmt: skip


def distinct_articles(count: int) -> list[str]:
    """`count` articles: the examples in turn, every sentence marked with the copy's number,
    so that no sentence is translated twice and no job joins another."""
    texts = [path.read_text() for path in sorted(EXAMPLES.glob("*.txt"))]
    return [re.sub(r"([.!?])(\s)", rf" ({n})\1\2", texts[n % len(texts)]) for n in range(count)]


def build_tiny_models(root: Path) -> BenchModels:
    """The test suite's tiny models (a few layers, a small vocabulary), for a quick run."""
    corpus = example_corpus()
    return BenchModels(build_marian(root / "marian", corpus), build_bart(root / "bart", corpus))


def build_models(
    root: Path | None = None, log: object = print, summary: str = "distilbart-cnn-12-6"
) -> BenchModels:
    """The two models, built on the first call and reused afterwards."""
    root = root or cache_root()
    corpus = example_corpus()
    models = BenchModels(root / "opus-mt-nl-en", root / summary)
    if not (models.summary / "config.json").is_file():
        log(f"building a random {summary} in {models.summary}")  # type: ignore[operator]
        config, generation = _published(summary)
        build_bart(
            models.summary, corpus, config=config, generation=generation,
            bpe_vocab_size=4000, vocab_size=int(config["vocab_size"]) + 1,
        )  # fmt: skip
    if not (models.translation / "config.json").is_file():
        log(f"building a random opus-mt-nl-en (74M parameters) in {models.translation}")  # type: ignore[operator]
        config, generation = _published("opus-mt-nl-en")
        from transformers import AutoTokenizer

        summary_tokenizer = AutoTokenizer.from_pretrained(models.summary)

        def one_summary_token(piece: str) -> bool:
            return len(summary_tokenizer.tokenize(" " + piece[1:])) == 1

        # A 1,200-piece BPE vocabulary splits the sample articles into about 1.4 pieces per
        # Dutch word, as a full-size vocabulary does on unseen news; filler pieces bring it to
        # the published size. The model only outputs whole words that the summary model reads
        # as one token each, so its random "translation" is as long for the summarizer as a
        # real English one (random fragments would make it twice as long, and summarizing
        # twice as costly).
        build_marian(
            models.translation, corpus, config=config, generation=generation,
            spm_vocab_size=1200, spm_model_type="bpe", vocab_size=int(config["vocab_size"]),
            generate_only=lambda piece: piece.startswith("▁") and one_summary_token(piece),
        )  # fmt: skip
    return models
