"""Translating text as it is, without cleaning: short messages (a toot, a chat line) and the
text of files that are translated into files of the same kind.

An article is cleaned of scraper debris first (`run.py`); a message or a document is not:
what a user sends is translated, nothing dropped. Each sentence is fitted to the model's
input limit, every distinct piece goes to the model once (a sentence cache spares repeats
across requests), and the text keeps its lines and paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workers.engines.protocols import Translator
from workers.pipeline.checks.sentence import Flag
from workers.pipeline.sentences import SentenceCache, translate_checked
from workers.pipeline.splitting import fit_to_limit, split_sentences
from workers.pipeline.terms.glossary import Glossary

# Called with (done, total) sentences, as `translate_checked` reports.
BatchCallback = Callable[[int, int], None]


@dataclass
class SentenceTranslator:
    """Sentences in, one translation each out: fitted, deduplicated, cached, batched, the
    glossary's terms enforced and each translation checked."""

    translator: Translator
    batch_size: int = 8
    max_sentence_tokens: int = 200
    cache: SentenceCache | None = None
    on_batch: BatchCallback | None = None
    glossary: Glossary | None = None
    # Every (source, translation) pair made so far, in order: what a Result shows; and the
    # flags of each pair's translation.
    pairs: list[tuple[str, str]] = field(default_factory=list)
    flags: list[list[Flag]] = field(default_factory=list)

    def __call__(self, sentences: Sequence[str]) -> list[str]:
        limit = min(self.max_sentence_tokens, self.translator.max_input_tokens)
        pieces = [fit_to_limit(s, self.translator.count_tokens, limit) for s in sentences]
        done = translate_checked(
            [p for fitted in pieces for p in fitted],
            self.translator,
            batch_size=self.batch_size,
            glossary=self.glossary,
            cache=self.cache,
            on_batch=self.on_batch,
        )
        out = [" ".join(done[p].text for p in fitted) for fitted in pieces]
        self.pairs += zip(sentences, out, strict=True)
        self.flags += [[flag for p in fitted for flag in done[p].flags] for fitted in pieces]
        return out


# A line's indent and its list, quote or heading markers (Markdown's `- `, `* `, `1. `, `> `,
# `## `) stay as they are; only the rest of the line goes to the model.
_LINE = re.compile(r"^(\s*(?:(?:[-*+>]|#{1,6}|\d{1,9}[.)])\s+)*)(.*?)(\s*)$", re.DOTALL)


def translate_plain(text: str, translate: Callable[[Sequence[str]], list[str]]) -> str:
    """`text` translated sentence by sentence, each line kept as a line (blank ones too),
    with its indent and list or heading markers."""
    parts = [_LINE.fullmatch(line).groups() for line in text.split("\n")]  # type: ignore[union-attr]
    plans = [(marks, split_sentences(body), end) for marks, body, end in parts]
    batch = [s for _, sentences, _ in plans for s in sentences]
    translated = iter(translate(batch)) if batch else iter(())
    out = []
    for (marks, sentences, end), (_, body, _) in zip(plans, parts, strict=True):
        if sentences:
            body = " ".join(next(translated) for _ in sentences)
        out.append(marks + body + end)
    return "\n".join(out)
