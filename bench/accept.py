"""How long the web takes to accept an article, small and large: the web must do bounded,
linear work per request (read, check a sample, store, queue), never the cleaning, splitting
or translating a worker does.

    make bench-accept        (or: python -m bench.accept [--rounds N])

Starts a Redis and `vertaal serve` (gunicorn, as deployed) of its own on free ports, with no
worker, and times, interleaved, real HTTP submissions of distinct articles: 1 KB and 1 MB of
ordinary Dutch text, and 1 MB in one paragraph with no sentence end (the input that froze a
web process when it was split there). The last line reads:
    accept_1kb_ms=… accept_1mb_ms=… accept_1mb_unpunctuated_ms=… ratio_1mb_to_1kb=…
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import httpx

from bench.stack import running_service

# Not plain ASCII, as Dutch news is not: “quotes”, één, café.
SENTENCE = "De minister zei op dag {n} dat er “één nieuw plan” komt voor de dijken bij het café. "


def article(size: int, n: int, *, punctuated: bool = True) -> str:
    """About `size` bytes of Dutch, different for every `n` (so no submission joins another)."""
    if punctuated:
        paragraph = "".join(SENTENCE.format(n=f"{n}-{i}") for i in range(5))
        text = "\n\n".join(paragraph for _ in range(size // len(paragraph) + 1))
    else:
        text = " ".join(f"woord{n}x{i} van één dijk" for i in range(size // 20 + 1))
    return text.encode()[:size].decode(errors="ignore")


def timed(client: httpx.Client, text: str) -> float:
    """Milliseconds from sending a submission to its answer; the body is encoded before."""
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    response = client.post("/api/v1/jobs", content=body, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"not accepted: {response.status_code} {response.text[:200]}")
    return elapsed * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="submissions of each kind")
    rounds = parser.parse_args(argv).rounds

    with running_service(None) as service:  # no worker: only the web's side is timed
        results = _measure(service.url, rounds)
    report(results)


def _measure(base: str, rounds: int) -> dict[str, list[float]]:
    kinds = {
        "1kb": lambda n: article(1_000, n),
        "1mb": lambda n: article(1_000_000, n),
        "1mb_unpunctuated": lambda n: article(1_000_000, n, punctuated=False),
    }
    results: dict[str, list[float]] = {kind: [] for kind in kinds}
    with httpx.Client(base_url=base, timeout=120) as client:
        for make in kinds.values():  # warm-up: first requests load code paths
            timed(client, make(-1))
        for n in range(rounds):
            for kind, make in kinds.items():
                results[kind].append(timed(client, make(n)))
    return results


def report(results: dict[str, list[float]]) -> None:
    medians = {kind: statistics.median(times) for kind, times in results.items()}
    print(f"{'submission':<22}{'median ms':>10}{'min ms':>9}{'max ms':>9}")
    for kind, times in results.items():
        print(f"{kind:<22}{medians[kind]:>10.1f}{min(times):>9.1f}{max(times):>9.1f}")
    print(
        f"accept_1kb_ms={medians['1kb']:.1f} accept_1mb_ms={medians['1mb']:.1f} "
        f"accept_1mb_unpunctuated_ms={medians['1mb_unpunctuated']:.1f} "
        f"ratio_1mb_to_1kb={medians['1mb'] / medians['1kb']:.2f}"
    )


if __name__ == "__main__":
    main()
