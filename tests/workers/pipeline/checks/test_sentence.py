import json
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.pipeline.checks.sentence import (
    Check,
    Flag,
    check_sentence,
    common_words,
    count_flags,
    longest_loop,
)

DOCS = Path(__file__).parents[4] / "docs" / "terms-and-checks.md"


def codes(source: str, translation: str, terms: tuple[str, ...] = ()) -> list[str]:
    return [flag.code for flag in check_sentence(source, translation, terms)]


# Each check: a translation built to trip it, and one of the same source that must not.
@pytest.mark.parametrize(
    ("code", "source", "bad", "good"),
    [
        (Check.EMPTY, "Het kabinet is gevallen.", "  ", "The cabinet has fallen."),
        (Check.SAME_AS_SOURCE, "Het kabinet is gevallen.", "Het kabinet is  gevallen.",
         "The cabinet has fallen."),
        (Check.UNTRANSLATED, "Sherman zei: 'Wij willen geen oorlog'.",
         "Sherman said: 'Wij willen geen oorlog'.", "Sherman said: 'We don't want war'."),
        (Check.NUMBER_MISSING, "Er wonen 1,5 miljoen mensen.", "1.5 people live there.",
         "1.5 million people live there."),
        (Check.URL_CHANGED, "Zie https://nos.nl/l/123.", "See https://nos.com/l/123.",
         "See https://nos.nl/l/123."),
        (Check.EMAIL_CHANGED, "Mail tips@nos.nl.", "Email tips@nos.com.", "Email tips@nos.nl."),
        (Check.HASHTAG_CHANGED, "Zie #Oekraïne.", "See #Ukraine.", "See #Oekraïne."),
        (Check.HANDLE_CHANGED, "Volg @NOS.", "Follow @nos.", "Follow @NOS."),
        (Check.LENGTH_RATIO, "Hij zei dat de NAVO sterker wordt en Rusland moet stoppen.",
         "He said.", "He said NATO is getting stronger and Russia must stop."),
        (Check.REPETITION, "De oorlog duurt al lang.",
         "The war has lasted a long time, a long time, a long time, a long time.",
         "The war has lasted a long time."),
    ],
)  # fmt: skip
def test_each_check_trips_on_its_failure_and_not_on_a_sound_translation(
    code: Check, source: str, bad: str, good: str
) -> None:
    assert code in codes(source, bad)
    assert codes(source, good) == []


def test_a_missing_term_is_flagged_naming_the_english_term() -> None:
    flags = check_sentence("Poetin sprak.", "Poetin spoke.", ("Putin",))
    assert flags == [Flag(Check.TERM_MISSING, "expected the term Putin")]
    assert check_sentence("Poetins leger.", "Putin's army.", ("Putin",)) == []


def test_a_number_flag_says_how_the_number_should_read() -> None:
    [flag] = check_sentence("Er wonen 1,5 miljoen mensen.", "1,5 million people live there.")
    assert flag.message == "expected 1.5 million (Dutch: 1,5 miljoen)"


@pytest.mark.parametrize(
    ("source", "translation"),
    [
        ("Mark Rutte", "Mark Rutte"),  # a name alone is the same in both languages
        ("NAVO-top", "NATO summit"),
        ("Ja.", "Yes, he said."),  # short: room either way
        ("Jan de Vries van der Berg sprak met Hoekstra.",
         "Jan de Vries van der Berg spoke to Hoekstra."),  # Dutch names are not Dutch text
        ("'We don't want war', zei Sherman.", "'We don't want war', Sherman said."),
        # a loop in the source too
        ("Haha haha haha haha, lachte hij.", "Haha haha haha haha, he laughed."),
        ("Op 3 december 2021 om 14.30 uur: 12.000 mensen.",
         "On 3 December 2021 at 2.30pm: 12,000 people."),
        ("Zie https://nos.nl/a.", "See https://nos.nl/a."),  # the URL's full stop is the sentence's
    ],
)  # fmt: skip
def test_sound_translations_raise_no_flag(source: str, translation: str) -> None:
    assert codes(source, translation) == []


def test_an_empty_translation_is_flagged_once_and_an_empty_source_never() -> None:
    assert codes("Er wonen 12.000 mensen in https://x.nl.", "") == [Check.EMPTY]
    assert codes("", "") == []


def test_names_and_their_particles_are_not_common_words() -> None:
    assert common_words("Dat zei Jan van der Berg van de VVD in Den Haag.") == ["zei", "in"]


def test_the_longest_loop_is_found_whatever_its_length() -> None:
    assert longest_loop([*"ababababc"]) == (4, ("a", "b"))
    assert longest_loop(["so", *["x", "of", "the"] * 3]) == (3, ("x", "of", "the"))
    assert longest_loop(["one", "two", "three"]) == (1, ())


def test_an_articles_flags_are_counted_by_code_and_serialise_as_json() -> None:
    checks = [
        check_sentence("Poetin sprak.", "", ("Putin",)),
        check_sentence("Poetin sprak.", "Poetin spoke.", ("Putin",)),
        check_sentence("Het regent.", "It rains."),
    ]
    assert count_flags(checks) == {"empty": 1, "term_missing": 1}
    assert json.loads(json.dumps([asdict(f) for f in checks[1]])) == [
        {"code": "term_missing", "message": "expected the term Putin"}
    ]


def test_every_code_is_explained_in_the_docs() -> None:
    text = DOCS.read_text()
    assert [code for code in Check if f"`{code}`" not in text] == []


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_any_text_gives_flags_not_errors(source: str, translation: str) -> None:
    for flag in check_sentence(source, translation, ("Putin",)):
        assert flag.code in set(Check) and flag.message
