"""The parts of a sentence a translation must keep exactly: URLs, e-mail addresses, hashtags
and @handles.

One regular expression finds them all in one pass, longest kind first (a URL may hold an `@`
or a `#`, an e-mail address an `@`). A URL ends before trailing punctuation (`nos.nl/a.` is
`nos.nl/a`), and before a closing bracket it did not open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Bare domains are recognised only under these endings: other `word.word` pairs in news text
# are abbreviations (`o.a.`, `d.w.z.`) or a missing space after a full stop.
_BARE_DOMAINS = "nl|be|com|org|net|eu|int|gov|edu|info|nu|io|uk|de|fr"

_PATH = r"[^\s<>\"“”‘’«»]"
_PATTERN = re.compile(
    rf"""
      (?P<url>(?:https?://|www\.){_PATH}+
        | (?<![\w.@-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:{_BARE_DOMAINS})(?![\w-])(?:/{_PATH}*)?)
    | (?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
    | (?P<handle>(?<![\w@./])@\w{{1,50}})
    | (?P<hashtag>(?<![\w#&/])\#\w*[^\W\d_]\w*)
    """,
    re.VERBOSE,
)
_TRAILING = ".,;:!?'\"’”»"


@dataclass(frozen=True)
class Verbatim:
    kind: str  # url, email, handle or hashtag
    text: str


def verbatim_parts(text: str) -> list[Verbatim]:
    """The URLs, e-mail addresses, handles and hashtags in `text`, each once, in order."""
    found: dict[Verbatim, None] = {}
    for match in _PATTERN.finditer(text):
        kind = match.lastgroup or "url"
        found[Verbatim(kind, _trimmed(match[0]) if kind in ("url", "email") else match[0])] = None
    return list(found)


def _trimmed(text: str) -> str:
    while text and (
        text[-1] in _TRAILING or (text[-1] in ")]" and text.count(text[-1]) > text.count(
            "(" if text[-1] == ")" else "["))
    ):  # fmt: skip
        text = text[:-1]
    return text
