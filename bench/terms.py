"""How fast a large glossary is made ready and matched: the glossary must not slow translation.

    python -m bench.terms [--entries N] [--repeat N]

Builds a glossary of made-up Dutch-looking entries (names, nouns with endings, two-word
terms), an article of the sample articles repeated with terms sprinkled in (about 150 KB),
and times building the matcher and enforcing the terms in every sentence. The last line reads:
    entries=… forms=… build_ms=… article_chars=… sentences=… match_ms=… terms_found=…
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

from workers.pipeline.terms.glossary import Entry, Glossary
from workers.pipeline.terms.matching import TermMatcher

ARTICLES = Path(__file__).parent.parent / "tests" / "data" / "articles"
_CONSONANTS = ["b", "d", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "sj", "tsj", "ch"]
_SYLLABLES = [c + v for c in _CONSONANTS for v in ("a", "e", "o", "oe", "ij", "ui")]


def glossary(entries: int, rng: random.Random) -> Glossary:
    """`entries` distinct entries; none matches a form of another."""

    def word() -> str:
        return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))

    pairs: list[tuple[str, str]] = []
    taken: set[str] = set()
    while len(pairs) < entries:
        kind = rng.random()
        if kind < 0.3:
            pair = (word().capitalize(), word().capitalize())
        elif kind < 0.6:
            pair = (f"{word()}(en|tje)", f"{word()}(s)")
        else:
            pair = (f"{word()} {word()}" if kind < 0.8 else word(), word())
        forms = set(Entry.parse(*pair).forms())
        if not forms & taken:
            taken |= forms
            pairs.append(pair)
    return Glossary.from_entries("bench", pairs)


def article(terms: list[str], rng: random.Random, repeat: int) -> list[str]:
    """The sample articles `repeat` times, a term after every 25th word, as sentences."""
    words = " ".join(p.read_text() for p in sorted(ARTICLES.glob("*.txt"))).split() * repeat
    sprinkled: list[str] = []
    for number, word in enumerate(words):
        sprinkled.append(word)
        if number % 25 == 0:
            sprinkled.append(rng.choice(terms))
    return re.split(r"(?<=[.!?]) ", " ".join(sprinkled))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10, help="copies of the sample articles")
    args = parser.parse_args(argv)
    rng = random.Random(7)
    built = glossary(args.entries, rng)
    sentences = article([entry.dutch for entry in built.entries], rng, args.repeat)

    started = time.perf_counter()
    matcher = TermMatcher(built)
    build_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    enforced = [matcher.enforce(sentence) for sentence in sentences]
    match_ms = (time.perf_counter() - started) * 1000
    print(
        f"entries={len(built)} forms={len(matcher.forms)} build_ms={build_ms:.0f} "
        f"article_chars={sum(map(len, sentences))} sentences={len(sentences)} "
        f"match_ms={match_ms:.0f} terms_found={sum(len(e.terms) for e in enforced)}"
    )


if __name__ == "__main__":
    main()
