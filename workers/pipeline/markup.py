"""Translate HTML and keep its markup: every element, attribute, comment and skipped part of
the input is in the output, in the same order, whatever the model says.

How (the method the research notes compare with argos-translate's `translatehtml` and
DeepL's tag handling): the element tree, parsed by BeautifulSoup, is never edited; only the
text of translatable text nodes is replaced. Text nodes that flow together inside a block
(`<p>De <b>minister</b> zei</p>`) form a run; a run is split into sentences, which are
translated as whole sentences (good word order), and each translation is then cut at word
boundaries over the run's text nodes in proportion to the words each held. Inline tags thus
stay around roughly the words they wrapped; they cannot be lost, duplicated or reordered, and
text the model writes (`<` included) is escaped, never turned into markup. `<script>`,
`<style>`, `<code>`, `<pre>` and anything marked `translate="no"` or `notranslate` are left
byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.dammit import EntitySubstitution
from bs4.formatter import HTMLFormatter

from workers.pipeline.splitting import split_sentences

SKIPPED = {
    "script", "style", "code", "pre", "kbd", "samp", "var", "textarea", "svg", "math",
    "template", "noscript", "iframe", "object", "canvas", "audio", "video",
}  # fmt: skip
# Phrasing elements that do not end a run; any other element (unknown ones too) does.
INLINE = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "data", "dfn", "em", "i", "ins", "del", "mark",
    "q", "s", "small", "span", "strong", "sub", "sup", "time", "u", "font", "label", "img",
    "wbr", "code", "kbd", "samp", "var",
}  # fmt: skip


class _AsWritten(HTMLFormatter):
    """`<br>` rather than `<br/>`, only & < > escaped, attributes in their own order."""

    def __init__(self) -> None:
        super().__init__(
            entity_substitution=EntitySubstitution.substitute_xml, void_element_close_prefix=""
        )

    def attributes(self, tag: Tag) -> Any:
        return list(tag.attrs.items())


FORMATTER = _AsWritten()
KEEP_WHITESPACE = {"[document]", "pre", "textarea"}
_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)

Translate = Callable[[Sequence[str]], list[str]]


def _skipped(element: Tag) -> bool:
    classes: Any = element.get("class") or []
    return (
        element.name in SKIPPED
        or str(element.get("translate", "")).lower() == "no"
        or "notranslate" in classes
    )


def _runs(root: Tag) -> list[list[NavigableString]]:
    """The runs of text nodes that flow together, in document order. Walked with a stack of
    its own, not recursion: a page may nest thousands of elements deep."""
    runs: list[list[NavigableString]] = []
    run: list[NavigableString] = []

    def flush() -> None:
        nonlocal run
        if any(node.strip() for node in run):
            runs.append(run)
        run = []

    levels: list[tuple[Iterator[Any], bool]] = [(iter(list(root.children)), False)]
    while levels:
        children, ends_block = levels[-1]
        child = next(children, None)
        if child is None:
            levels.pop()
            if ends_block:
                flush()
        elif isinstance(child, Tag):
            block = child.name not in INLINE
            if _skipped(child):
                if block:  # a skipped inline element (<code>) keeps its place in the run
                    flush()
                continue
            if block:
                flush()
            levels.append((iter(list(child.children)), block))
        elif type(child) is NavigableString:  # not comments, doctypes, CDATA
            run.append(child)
    flush()
    return runs


def _distribute(text: str, weights: list[int]) -> list[str]:
    """`text` cut into len(weights) consecutive pieces of whole words, in proportion to the
    weights; a piece whose weight is positive gets a word when there are enough."""
    words, count = text.split(), len(weights)
    if count == 1:
        return [" ".join(words)]
    total = sum(weights) or count
    shares = [len(words) * w / total for w in weights]
    given = [int(s) for s in shares]
    for i in sorted(range(count), key=lambda i: shares[i] - given[i], reverse=True)[
        : len(words) - sum(given)
    ]:
        given[i] += 1
    if len(words) >= count:
        for i in range(count):
            if given[i] == 0 and weights[i] > 0:
                largest = max(range(count), key=lambda j: given[j])
                given[largest] -= 1
                given[i] = 1
    pieces, start = [], 0
    for size in given:
        pieces.append(" ".join(words[start : start + size]))
        start += size
    return pieces


def _sentences(joined: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a run's text; a sentence the splitter changed is
    taken with the rest of the run, so the spans always cover the text."""
    spans, position = [], 0
    for sentence in split_sentences(joined):
        start = joined.find(sentence, position)
        if start < 0:
            rest = joined[position:]
            spans.append((position, position + len(rest)))
            return spans
        spans.append((start, start + len(sentence)))
        position = start + len(sentence)
    return spans


def translate_html(html: str, translate: Translate) -> str:
    """The HTML with its text translated by `translate` (sentences in, translations out, one
    call for the whole document) and its markup unchanged."""
    # The document's root among the whitespace-keeping tags: BeautifulSoup would otherwise
    # squeeze whitespace between elements into one space or newline.
    soup = BeautifulSoup(html, "html.parser", preserve_whitespace_tags=KEEP_WHITESPACE)
    plan = []
    batch: list[str] = []
    for run in _runs(soup):
        edges = [_EDGES.match(str(node)) for node in run]
        joined, owners = "", []  # owners[k]: the text node character k came from
        for i, node in enumerate(run):
            joined += str(node)
            owners += [i] * len(node)
        sentences = []
        for start, end in _sentences(joined):
            weights = dict.fromkeys(sorted(set(owners[start:end])), 0)
            for word in re.finditer(r"\S+", joined[start:end]):
                weights[owners[start + word.start()]] += 1  # a word is its first node's
            sentences.append((len(batch), weights))
            batch.append(" ".join(joined[start:end].split()))
        plan.append((run, edges, sentences))
    translated = translate(batch) if batch else []
    if len(translated) != len(batch):
        raise ValueError("the translator gave back another number of sentences")
    for run, edges, sentences in plan:
        pieces: dict[int, list[str]] = {i: [] for i in range(len(run))}
        for index, weights in sentences:
            nodes = list(weights)
            cut = _distribute(translated[index], [weights[i] for i in nodes])
            for i, piece in zip(nodes, cut, strict=True):
                if piece:
                    pieces[i].append(piece)
        after_space = True
        for i, node in enumerate(run):
            match = edges[i]
            assert match is not None
            lead, core, trail = match.groups()
            if not core:  # whitespace only: left as it is
                after_space = after_space or bool(lead)
                continue
            body = " ".join(pieces[i])
            if body and not lead and not after_space:
                lead = " "  # the translation is cut at word boundaries
            new = lead + body + trail
            node.replace_with(NavigableString(new))  # the one change: a text node's text
            if new:
                after_space = new[-1].isspace()
    return str(soup.decode(formatter=FORMATTER))
