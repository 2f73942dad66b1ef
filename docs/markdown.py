"""What the generated references share about Markdown: table cells and heading anchors."""

from __future__ import annotations

import re


def prose(text: str) -> str:
    """Text from the code as Markdown: `<stem>` outside code spans is text, not an HTML tag."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(
        part if part.startswith("`") else part.replace("<", "&lt;").replace(">", "&gt;")
        for part in parts
    )


def cell(text: str) -> str:
    """Text that stays inside one cell of a Markdown table."""
    return prose(" ".join(text.split())).replace("|", "\\|")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading anchor of a page, numbered as GitHub numbers repeated headings."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"#{1,6} (.+)", line)
        if heading:
            base = slug(heading[1])
            found.add(f"{base}-{counts[base]}" if base in counts else base)
            counts[base] = counts.get(base, 0) + 1
        found |= set(re.findall(r'<a id="([^"]+)"', line))
    return found
