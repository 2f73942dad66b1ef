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

XML (DeepL's `tag_handling=xml`) is read as a stream of tags and text, never parsed into a
tree, so any fragment comes back as sent; the same runs and word-boundary cuts apply, with
DeepL's `ignore_tags`, `splitting_tags` and `non_splitting_tags` deciding what is a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html import escape, unescape
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
_LINE_BREAKS_AS_SPACES = str.maketrans("\n\r\t\f\v", "     ")
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


def _translate_runs(runs: list[list[str]], translate: Translate) -> list[dict[int, str]]:
    """Runs of text nodes (each node's text) translated in one call to `translate`: for
    each run, the new text of every node that held words (whitespace-only nodes keep theirs).
    """
    plan = []
    batch: list[str] = []
    for run in runs:
        edges = [_EDGES.match(text) for text in run]
        joined, owners = "", []  # owners[k]: the text node character k came from
        for i, text in enumerate(run):
            joined += text
            owners += [i] * len(text)
        sentences = []
        # Line breaks in markup are only whitespace: they end no sentence (same length, so
        # the owners still line up).
        for start, end in _sentences(joined.translate(_LINE_BREAKS_AS_SPACES)):
            weights = dict.fromkeys(sorted(set(owners[start:end])), 0)
            for word in re.finditer(r"\S+", joined[start:end]):
                weights[owners[start + word.start()]] += 1  # a word is its first node's
            sentences.append((len(batch), weights))
            batch.append(" ".join(joined[start:end].split()))
        plan.append((edges, sentences))
    translated = translate(batch) if batch else []
    if len(translated) != len(batch):
        raise ValueError("the translator gave back another number of sentences")
    return [_rebuilt(edges, sentences, translated) for edges, sentences in plan]


def _rebuilt(
    edges: list[re.Match[str] | None],
    sentences: list[tuple[int, dict[int, int]]],
    translated: list[str],
) -> dict[int, str]:
    pieces: dict[int, list[str]] = {i: [] for i in range(len(edges))}
    for index, weights in sentences:
        nodes = list(weights)
        cut = _distribute(translated[index], [weights[i] for i in nodes])
        for i, piece in zip(nodes, cut, strict=True):
            if piece:
                pieces[i].append(piece)
    new: dict[int, str] = {}
    after_space = True
    for i, match in enumerate(edges):
        assert match is not None
        lead, core, trail = match.groups()
        if not core:  # whitespace only: left as it is
            after_space = after_space or bool(lead)
            continue
        body = " ".join(pieces[i])
        if body and not lead and not after_space:
            lead = " "  # the translation is cut at word boundaries
        new[i] = lead + body + trail
        if new[i]:
            after_space = new[i][-1].isspace()
    return new


def translate_html(html: str, translate: Translate) -> str:
    """The HTML with its text translated by `translate` (sentences in, translations out, one
    call for the whole document) and its markup unchanged."""
    # The document's root among the whitespace-keeping tags: BeautifulSoup would otherwise
    # squeeze whitespace between elements into one space or newline.
    soup = BeautifulSoup(html, "html.parser", preserve_whitespace_tags=KEEP_WHITESPACE)
    runs = _runs(soup)
    texts = [[str(node) for node in run] for run in runs]
    for run, new in zip(runs, _translate_runs(texts, translate), strict=True):
        for i, text in new.items():
            run[i].replace_with(NavigableString(text))  # the one change: a text node's text
    return str(soup.decode(formatter=FORMATTER))


# --- XML, as DeepL's `tag_handling=xml` ---------------------------------------------------

# An XML document read as tokens, never parsed into a tree: fragments, several roots, a
# DOCTYPE, undeclared entities and unclosed tags all come back exactly as they were sent.
_XML_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![^>]*>|</?[A-Za-z_:][^<>]*>", re.DOTALL
)
_XML_ELEMENT = re.compile(r"</?([A-Za-z_:][^\s/>]*)")


@dataclass(frozen=True)
class XmlTags:
    """DeepL's tag options: elements whose text is not translated (`ignore_tags`), elements
    that always end a sentence (`splitting_tags`) or never do (`non_splitting_tags`); other
    elements end one, unless they are inline HTML names, while `outline_detection` is on
    (DeepL's default), and never once it is off."""

    ignore: frozenset[str] = frozenset()
    splitting: frozenset[str] = frozenset()
    non_splitting: frozenset[str] = frozenset()
    outline_detection: bool = True

    def splits(self, name: str) -> bool:
        if name in self.non_splitting:
            return False
        if name in self.splitting:
            return True
        return self.outline_detection and name.lower() not in INLINE


def _xml_runs(tokens: list[str], tags: XmlTags) -> list[list[int]]:
    """The runs of text tokens (their indices) that flow together, outside ignored elements."""
    runs: list[list[int]] = []
    run: list[int] = []
    open_names: list[str] = []
    ignored_below: int | None = None  # while inside an ignored element: its depth

    def flush() -> None:
        nonlocal run
        if any(tokens[i].strip() for i in run):
            runs.append(run)
        run = []

    for index, token in enumerate(tokens):
        if not _XML_MARKUP.fullmatch(token):
            if ignored_below is None:
                run.append(index)
            continue
        name_match = _XML_ELEMENT.match(token)
        if name_match is None:  # a comment, CDATA, a declaration: no element
            continue
        name = name_match.group(1)
        if tags.splits(name):
            flush()
        if token.startswith("</"):
            if name in open_names:  # unclosed elements inside it end with it
                del open_names[len(open_names) - 1 - open_names[::-1].index(name) :]
            if ignored_below is not None and len(open_names) <= ignored_below:
                ignored_below = None
        elif not token.endswith("/>"):
            if ignored_below is None and name in tags.ignore:
                ignored_below = len(open_names)
            open_names.append(name)
    flush()
    return runs


def _xml_tokens(text: str) -> list[str]:
    return [t for t in re.split(f"({_XML_MARKUP.pattern})", text, flags=re.DOTALL) if t]


def xml_text(text: str, tags: XmlTags) -> str:
    """The text of an XML document that would be translated (not its tags, not the text of
    ignored elements): what its language is identified by."""
    tokens = _xml_tokens(text)
    return " ".join(unescape(tokens[i]) for run in _xml_runs(tokens, tags) for i in run)


def translate_xml(texts: Sequence[str], translate: Translate, tags: XmlTags) -> list[str]:
    """XML texts with their text translated by `translate` (one call for all of them) and
    every tag, comment and ignored element byte for byte as sent."""
    documents = []
    for text in texts:
        tokens = _xml_tokens(text)
        documents.append((tokens, _xml_runs(tokens, tags)))
    runs = [
        [unescape(tokens[i]) for i in run] for tokens, doc_runs in documents for run in doc_runs
    ]
    new_texts = iter(_translate_runs(runs, translate))
    for tokens, found in documents:
        for run in found:
            for i, text in next(new_texts).items():
                tokens[run[i]] = escape(text, quote=False)
    return ["".join(tokens) for tokens, _ in documents]
