"""Summarize a translated article, map-reduce style when it exceeds the model's input limit.

Whole sentences are packed into chunks that fit the summarizer; each chunk is summarized, then
the summaries are summarized in turn until one text remains. No article text is truncated.
Several articles can be summarized at once (`summarize_many`), sharing the model's batches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Sequence

from workers.engines.memory import MemoryBudget
from workers.engines.protocols import Summarizer
from workers.errors import INTERRUPTIONS
from workers.pipeline.splitting import fit_sentences

log = logging.getLogger(__name__)

# Texts summarized per model call at most, and their input tokens together when no memory
# budget is given. Measured on distilbart-cnn-12-6 (CTranslate2 int8, 2 threads, chunks of
# 800 tokens, 2026-12-05): 2.34 s per text alone, 1.76 in twos, 1.45 in fours, 1.40 in
# eights. Memory grows with batch x beams x input length, so a worker sizes its batches from
# its budget (workers/engines/memory.py, VERTAAL_WORKER_MEMORY_MB) rather than a constant.
SUMMARY_BATCH_SIZE = 8
SUMMARY_BATCH_TOKENS = 2048

StepCallback = Callable[[int, int], None]


def pack_chunks(sentences: Sequence[str], summarizer: Summarizer) -> list[str]:
    """Consecutive sentences joined into as few texts as fit the summarizer's input limit."""
    limit = summarizer.max_input_tokens
    overhead = summarizer.count_tokens([""])[0]  # special tokens every input carries
    fitted = fit_sentences(list(sentences), summarizer.count_tokens, limit)
    counts = summarizer.count_tokens(fitted)
    chunks: list[list[str]] = []
    size = 0
    for sentence, count in zip(fitted, counts, strict=True):
        # +1: joining with a space can add a token at the seam.
        cost = count - overhead + 1
        if chunks and size + cost <= limit - overhead:
            chunks[-1].append(sentence)
            size += cost
        else:
            chunks.append([sentence])
            size = cost
    return [" ".join(chunk) for chunk in chunks]


def _summary_steps(
    sentences: Sequence[str], summarizer: Summarizer
) -> Generator[list[str], list[str], str]:
    """One article's map-reduce as a coroutine: it yields the texts it needs summarized and
    is sent their summaries, until one summary is left, which it returns."""
    texts = pack_chunks(sentences, summarizer)
    while True:
        summaries = yield texts
        if len(summaries) == 1:
            return summaries[0]
        next_texts = pack_chunks(summaries, summarizer)
        if len(next_texts) >= len(texts):
            # Summaries too long to pair up (only when they are longer than half the model's
            # input, which real summaries of at most 142 tokens in 1,024 never are): summarize
            # what fits of them together rather than loop.
            log.warning("partial summaries do not fit together; the last one is cut short")
            return (yield [" ".join(summaries)])[0]
        texts = next_texts


def summarize_many(
    articles: Sequence[Sequence[str]],
    summarizer: Summarizer,
    on_step: Sequence[StepCallback | None] | None = None,
    memory: MemoryBudget | None = None,
) -> list[str | Exception]:
    """One summary for each article's sentences, their model calls shared: at every step of
    the map-reduce, the texts all articles need go to the model together, longest first, in
    batches bounded in texts and input tokens (`_batches`). Each summary is what the article
    would get alone (the model's own beams and lengths, per text). With a `memory` budget,
    each step's batches hold as many input tokens as it has room for.

    `on_step[i]` hears article i's (done, total) steps; an exception it raises (a cancel)
    drops that article, whose place in the answer is the exception. An error of the model
    itself in a shared batch is retried one article at a time, so one article cannot fail
    the others."""
    callbacks = list(on_step or [None] * len(articles))
    steps = [_summary_steps(sentences, summarizer) for sentences in articles]
    outcome: dict[int, str | Exception] = {}
    pending = {i: next(step) for i, step in enumerate(steps)}
    done = dict.fromkeys(pending, 0)
    total = {i: len(texts) + (1 if len(texts) > 1 else 0) for i, texts in pending.items()}
    while pending:
        answers = _summarize_together(pending, summarizer, callbacks, done, total, outcome, memory)
        pending = {i: texts for i, texts in pending.items() if i not in outcome}
        following = {}
        for i in pending:
            try:
                following[i] = steps[i].send(answers[i])
            except StopIteration as finished:
                outcome[i] = finished.value
                continue
            total[i] = done[i] + len(following[i])
        pending = following
    return [outcome[i] for i in range(len(articles))]


def _summarize_together(
    pending: dict[int, list[str]],
    summarizer: Summarizer,
    callbacks: list[StepCallback | None],
    done: dict[int, int],
    total: dict[int, int],
    outcome: dict[int, str | Exception],
    memory: MemoryBudget | None,
) -> dict[int, list[str]]:
    """One step for every pending article: their texts' summaries, in each article's order."""
    items = [(i, k, text) for i, texts in pending.items() for k, text in enumerate(texts)]
    found: dict[tuple[int, int], str] = {}
    cap = SUMMARY_BATCH_TOKENS
    if memory is not None:
        cap = memory.batch_tokens(summarizer.num_beams, smallest=summarizer.max_input_tokens)
    for planned in _batches(items, summarizer, cap):
        batch = [(i, k, text) for i, k, text, _ in planned if i not in outcome]
        if not batch:
            continue
        tokens = sum(count for i, _, _, count in planned if i not in outcome)

        def run(batch: list[tuple[int, int, str]] = batch) -> Sequence[str | None]:
            return _summarized(batch, summarizer, outcome)

        summaries = memory.measured(tokens, summarizer.num_beams, run) if memory else run()
        for (i, k, _), summary in zip(batch, summaries, strict=True):
            if summary is not None:
                found[i, k] = summary
        for i in dict.fromkeys(i for i, _, _ in batch):
            if i in outcome:
                continue
            done[i] += sum(1 for j, _, _ in batch if j == i)
            callback = callbacks[i]
            if callback is not None:
                try:
                    callback(done[i], max(total[i], done[i]))
                except INTERRUPTIONS:
                    raise
                except Exception as error:  # a cancel: this article stops here
                    outcome[i] = error
    return {i: [found[i, k] for k in range(len(texts))]
            for i, texts in pending.items() if i not in outcome}  # fmt: skip


def _batches(
    items: list[tuple[int, int, str]], summarizer: Summarizer, cap: int
) -> list[list[tuple[int, int, str, int]]]:
    """The texts (with their token counts) in batches, longest first (little padding), each
    within `cap` input tokens and SUMMARY_BATCH_SIZE texts (a longer text alone)."""
    counts = summarizer.count_tokens([text for _, _, text in items]) if items else []
    ranked = sorted(zip(counts, items, strict=True), key=lambda pair: pair[0], reverse=True)
    batches: list[list[tuple[int, int, str, int]]] = []
    size = 0
    for count, (i, k, text) in ranked:
        if batches and len(batches[-1]) < SUMMARY_BATCH_SIZE and size + count <= cap:
            batches[-1].append((i, k, text, count))
            size += count
        else:
            batches.append([(i, k, text, count)])
            size = count
    return batches


def _summarized(
    batch: list[tuple[int, int, str]], summarizer: Summarizer, outcome: dict[int, str | Exception]
) -> Sequence[str | None]:
    """The batch's summaries. If the shared call fails, each article's texts are tried alone;
    an article whose own texts fail gets that error as its outcome (and None summaries)."""
    owners = list(dict.fromkeys(i for i, _, _ in batch))
    try:
        return summarizer.summarize_batch([text for _, _, text in batch])
    except INTERRUPTIONS:
        raise
    except Exception as error:
        if len(owners) == 1:
            outcome[owners[0]] = error
            return [None] * len(batch)
    answers: list[str | None] = [None] * len(batch)
    for owner in owners:
        places = [n for n, (i, _, _) in enumerate(batch) if i == owner]
        try:
            alone = summarizer.summarize_batch([batch[n][2] for n in places])
        except INTERRUPTIONS:
            raise
        except Exception as error:
            outcome[owner] = error
            continue
        for n, summary in zip(places, alone, strict=True):
            answers[n] = summary
    return answers


def summarize_sentences(
    sentences: Sequence[str],
    summarizer: Summarizer,
    on_step: StepCallback | None = None,
    memory: MemoryBudget | None = None,
) -> str:
    """One summary of all `sentences`."""
    answer = summarize_many([sentences], summarizer, [on_step], memory)[0]
    if isinstance(answer, Exception):
        raise answer
    return answer
