import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.pipeline.terms.glossary import Glossary
from workers.pipeline.terms.matching import (
    EnforcedSentence,
    apply_terms,
    matcher_for,
    missing_terms,
)

DESK = Glossary.from_tsv(
    "Desk",
    "Poetin\tPutin\n"
    "Zelenski\tZelensky\n"
    "Navalni\tNavalny\n"
    "Sjojgoe\tShoigu\n"
    "Sergej Sjojgoe\tSergei Shoigu\n"
    "asielzoeker(s)\tasylum seeker(s)\n"
    "stad(je|jes)\ttown(s)\n"
    "Oeigoer(en|se)\tUyghur(s)\n"
    "kabinet\tcabinet\n"
    "Tweede Kamer\tHouse of Representatives\n",
)


def enforce(sentence: str) -> EnforcedSentence:
    return apply_terms([sentence], DESK)[0]


@pytest.mark.parametrize(
    ("dutch", "english", "expected"),
    [
        ("Poetin sprak.", "Putin sprak.", ["Putin"]),
        ("Dat zei poetin.", "Dat zei Putin.", ["Putin"]),
        ("POETIN!", "Putin!", ["Putin"]),
        ("Poetins leger trok zich terug.", "Putin's leger trok zich terug.", ["Putin"]),
        ("Zelenski's vrouw en Zelenski’s zoon.", "Zelensky's vrouw en Zelensky’s zoon.",
         ["Zelensky"]),
        ("Het Poetin-regime viel.", "Het Putin-regime viel.", ["Putin"]),
        ("Anti-Poetin-betogers.", "Anti-Putin-betogers.", ["Putin"]),
        ("Navalni-aanhangers protesteerden.", "Navalny-aanhangers protesteerden.", ["Navalny"]),
        ("Sergej Sjojgoe en Sjojgoe’s opvolger.", "Sergei Shoigu en Shoigu’s opvolger.",
         ["Sergei Shoigu", "Shoigu"]),
        ("Twee asielzoekers en een asielzoeker.", "Twee asylum seekers en een asylum seeker.",
         ["asylum seekers", "asylum seeker"]),
        ("Een stadje, twee stadjes.", "Een town, twee towns.", ["town", "towns"]),
        ("De Oeigoeren en de Oeigoerse taal.", "De Uyghurs en de Uyghur taal.",
         ["Uyghurs", "Uyghur"]),
        ("Kabinet valt, het kabinet.", "Cabinet valt, het cabinet.", ["cabinet"]),
        ("In de Tweede Kamer.", "In de House of Representatives.", ["House of Representatives"]),
    ],
)  # fmt: skip
def test_dutch_inflections_and_compounds_get_the_english_term(
    dutch: str, english: str, expected: list[str]
) -> None:
    enforced = enforce(dutch)
    assert enforced.text == english
    assert list(enforced.expected) == expected


@pytest.mark.parametrize(
    "dutch",
    [
        "Het poetinisme en Poetinsky.",  # longer words that start with a term
        "Een apoetin.",  # or end with one
        "De kabinetten vielen.",  # an ending this entry does not allow
        "Een stads plan.",  # nor this one (and `stad` is no name: no genitive)
        "Het Oeigoers.",
    ],
)
def test_words_that_only_contain_a_term_are_left_alone(dutch: str) -> None:
    enforced = enforce(dutch)
    assert enforced.text == dutch
    assert enforced.terms == ()


def test_each_use_records_where_its_english_stands() -> None:
    enforced = enforce("Poetins woorden aan Zelenski.")
    assert [(u.dutch, u.english, u.expected) for u in enforced.terms] == [
        ("Poetins", "Putin's", "Putin"),
        ("Zelenski", "Zelensky", "Zelensky"),
    ]
    assert [enforced.text[u.start : u.end] for u in enforced.terms] == ["Putin's", "Zelensky"]


def test_an_empty_glossary_changes_nothing_and_a_matcher_is_built_once() -> None:
    empty = Glossary("empty", ())
    assert apply_terms(["Poetin sprak."], empty) == [
        EnforcedSentence("Poetin sprak.", "Poetin sprak.")
    ]
    assert matcher_for(DESK) is matcher_for(Glossary.from_tsv("Same", DESK.to_tsv()))


def test_missing_terms_are_looked_for_on_word_boundaries_in_any_case() -> None:
    translation = "Putin's army and the asylum seekers met putin-supporters."
    assert missing_terms(translation, ["Putin", "asylum seekers", "Zelensky"]) == ["Zelensky"]
    assert missing_terms("Putinism grows.", ["Putin"]) == ["Putin"]


WORDS = ["de", "Poetin", "poetins", "Zelenski's", "stadje", "kabinet", "Tweede", "Kamer",
         "Sergej", "Sjojgoe", "xPoetin", "asielzoekers", "é", "İstanbul", "12"]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=12),
    st.lists(st.sampled_from([" ", "-", ", ", "'", "\n", ""]), min_size=12, max_size=12),
)
def test_replacement_never_changes_text_outside_the_matched_terms(
    words: list[str], separators: list[str]
) -> None:
    sentence = "".join(w + s for w, s in zip(words, separators, strict=False))
    enforced = enforce(sentence)
    rebuilt, last = [], 0
    for use in enforced.terms:
        assert use.start >= last, "uses are in order and never overlap"
        rebuilt += [enforced.text[last : use.start], use.dutch]
        last = use.end
        assert use.dutch.lower() in DESK.forms
    rebuilt.append(enforced.text[last:])
    assert "".join(rebuilt) == sentence
