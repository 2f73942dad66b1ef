"""Plain text translated as it is: lines, blank lines, indents and list or heading markers
stay; only sentences go to the model, all in one call."""

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.pipeline.texts import translate_plain


def shout(sentences: Sequence[str]) -> list[str]:
    return [f"<{s.upper()}>" for s in sentences]


def test_lines_and_their_markers_stay_only_sentences_are_translated() -> None:
    calls: list[list[str]] = []

    def translate(sentences: Sequence[str]) -> list[str]:
        calls.append(list(sentences))
        return shout(sentences)

    text = "# Kop\n\nDe minister zei dat. Hij komt.\n  - een punt\n1. eerst\n> citaat\n\t\n"
    assert translate_plain(text, translate) == (
        "# <KOP>\n\n<DE MINISTER ZEI DAT.> <HIJ KOMT.>\n  - <EEN PUNT>\n1. <EERST>\n"
        "> <CITAAT>\n\t\n"
    )
    assert calls == [["Kop", "De minister zei dat.", "Hij komt.", "een punt", "eerst", "citaat"]]


def test_text_without_sentences_needs_no_model() -> None:
    def refuse(sentences: Sequence[str]) -> list[str]:
        raise AssertionError("no call expected")

    assert translate_plain("\n  \n\t", refuse) == "\n  \n\t"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"),
                        max_size=60), max_size=8))  # fmt: skip
def test_any_text_keeps_its_number_of_lines(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert translate_plain(text, shout).count("\n") == text.count("\n")
