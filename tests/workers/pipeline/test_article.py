"""Where a result shows its checks: the flagged sentences in reading order, and the `.en.md`
with a footnote on each flagged sentence."""

import re

from workers.pipeline.article import Checks, FlaggedSentence, Models, Result, Source, Translation
from workers.pipeline.checks.sentence import Check, Flag

NUMBER = Flag(Check.NUMBER_MISSING, "expected 1.5 million (Dutch: 1,5 miljoen)")
TERM = Flag(Check.TERM_MISSING, "expected the term Putin")
DUTCH = Flag(Check.UNTRANSLATED, "the translation still reads as Dutch")


def checked(title: list[Flag], paragraphs: list[list[list[Flag]]]) -> Result:
    return Result(
        source=Source(
            title="Poetin spreekt", date="2022-01-03",
            paragraphs=[["Eén zin.", "Het kost 1,5 miljoen."], ["Poetin zwijgt.", "Nog een."]],
        ),
        translation=Translation(
            title="Putin speaks",
            paragraphs=[["One sentence.", "It costs 1.5."], ["He is silent.", "Nog een."]],
        ),
        summary="A summary.", removed=[], models=Models("m", "s"), timings={},
        checks=Checks.of(title, paragraphs),
    )  # fmt: skip


def test_flagged_sentences_in_reading_order_the_title_first() -> None:
    result = checked([DUTCH], [[[], [NUMBER]], [[TERM, DUTCH], []]])
    assert result.flagged_sentences() == [
        FlaggedSentence(None, 0, "Poetin spreekt", "Putin speaks", [DUTCH]),
        FlaggedSentence(0, 1, "Het kost 1,5 miljoen.", "It costs 1.5.", [NUMBER]),
        FlaggedSentence(1, 0, "Poetin zwijgt.", "He is silent.", [TERM, DUTCH]),
    ]
    assert checked([], [[[], []], [[], []]]).flagged_sentences() == []
    unchecked = Result(**{**result.__dict__, "checks": None})
    assert unchecked.flagged_sentences() == [], "a result from before the checks has none"


def test_markdown_marks_each_flagged_sentence_with_a_footnote() -> None:
    markdown = checked([DUTCH], [[[], [NUMBER]], [[TERM, DUTCH], []]]).to_markdown("x")
    lines = markdown.splitlines()
    assert lines[0] == "# Putin speaks[^1]"
    assert "One sentence. It costs 1.5.[^2]" in lines
    assert "He is silent.[^3] Nog een." in lines
    assert lines[-3:] == [
        "[^1]: untranslated: the translation still reads as Dutch",
        "[^2]: number_missing: expected 1.5 million (Dutch: 1,5 miljoen)",
        "[^3]: term_missing: expected the term Putin; untranslated: the translation still "
        "reads as Dutch",
    ]
    assert markdown.endswith("\n"), "the notes end the file, as paragraphs do"
    references = re.findall(r"(?<!^)\[\^(\d+)\]", markdown, re.MULTILINE)
    assert references == ["1", "2", "3"], "every note is referred to once, in order"


def test_markdown_without_flags_is_the_plain_translation() -> None:
    clean = checked([], [[[], []], [[], []]]).to_markdown("x")
    assert "[^" not in clean
    assert clean.endswith("One sentence. It costs 1.5.\n\nHe is silent. Nog een.\n")
    unchecked = Result(**{**checked([DUTCH], [[[], []], [[], []]]).__dict__, "checks": None})
    assert unchecked.to_markdown("x") == clean
