from collections.abc import Sequence

import pytest

from workers.engines.protocols import Translator
from workers.pipeline.terms.glossary import Glossary
from workers.pipeline.terms.matching import apply_terms
from workers.pipeline.terms.names import builtin_names
from workers.pipeline.terms.retry import (
    TermOutcome,
    quote_terms,
    retry_missing_terms,
    unquote_terms,
)

SENTENCES = ["Poetins troepen trokken zich terug.", "Het regent.", "Zelenski sprak met Navalni."]


def test_the_forced_english_term_comes_out_of_the_model(copy_translator: Translator) -> None:
    """The copy engine returns what the model was given: the English terms are in it."""
    enforced = apply_terms(SENTENCES, builtin_names())
    first = copy_translator.translate_batch([s.text for s in enforced])
    outcomes = retry_missing_terms(enforced, first, copy_translator.translate_batch)
    assert [o.translation for o in outcomes] == [
        "Putin's troepen trokken zich terug.",
        "Het regent.",
        "Zelensky sprak met Navalny.",
    ]
    assert all(o.missing == () and not o.retried for o in outcomes)


def test_a_sentence_that_lost_its_term_is_tried_again_quoted(copy_translator: Translator) -> None:
    enforced = apply_terms(SENTENCES, builtin_names())
    sent: list[list[str]] = []

    def translate_batch(texts: Sequence[str]) -> list[str]:
        sent.append(list(texts))
        return copy_translator.translate_batch(texts)

    first = ["Poetin's troops withdrew.", "It is raining.", "Zelensky spoke to Navalny."]
    outcomes = retry_missing_terms(enforced, first, translate_batch)
    assert sent == [['"Putin\'s" troepen trokken zich terug.']], "only the sentence lacking a term"
    assert outcomes == [
        TermOutcome("Putin's troepen trokken zich terug.", (), retried=True),
        TermOutcome("It is raining.", (), retried=False),
        TermOutcome("Zelensky spoke to Navalny.", (), retried=False),
    ]


def test_when_the_retry_does_no_better_the_first_output_stays_and_the_term_is_missing() -> None:
    enforced = apply_terms(["Poetin sprak.", "Poetin zweeg."], builtin_names())
    outcomes = retry_missing_terms(
        enforced, ["Poetin spoke.", "Poetin was silent."], lambda texts: ["" for _ in texts]
    )
    assert outcomes == [
        TermOutcome("Poetin spoke.", ("Putin",), retried=True),
        TermOutcome("Poetin was silent.", ("Putin",), retried=True),
    ]


def test_identical_retries_go_to_the_model_once_in_batches() -> None:
    enforced = apply_terms(["Poetin sprak."] * 5, builtin_names())
    batches: list[int] = []

    def translate_batch(texts: Sequence[str]) -> list[str]:
        batches.append(len(texts))
        return ["Putin spoke." for _ in texts]

    outcomes = retry_missing_terms(enforced, ["He spoke."] * 5, translate_batch, batch_size=2)
    assert batches == [1]
    assert {o.translation for o in outcomes} == {"Putin spoke."}


def test_quotes_are_added_only_where_the_source_has_none_and_taken_out_after() -> None:
    desk = Glossary.from_tsv("Desk", "Poetin\tPutin\nkabinet\tcabinet\n")
    enforced = apply_terms(["„Poetin” en Poetins kabinet."], desk)[0]
    assert quote_terms(enforced, ["Putin"]) == '„Putin” en "Putin\'s" cabinet.'
    assert unquote_terms("“Putin” and “Putin’s” ‘cabinet’", ["Putin", "cabinet"]) == (
        "Putin and Putin’s cabinet"
    )


def test_sentences_and_translations_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 sentences but 1 translations"):
        retry_missing_terms(apply_terms(["a", "b"], builtin_names()), ["a"], lambda t: list(t))
