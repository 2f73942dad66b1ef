from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.pipeline import splitting
from workers.pipeline.splitting import (
    WINDOW_CHARS,
    fit_sentences,
    fit_to_limit,
    needs_model,
    split_sentences,
    windows,
)


def squeeze(text: str) -> str:
    return "".join(text.split())


def count_words(texts: Sequence[str]) -> list[int]:
    """A stand-in tokenizer: one token per word, plus the end-of-sentence token."""
    return [len(text.split()) + 1 for text in texts]


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        (
            "Dat zei dhr. Jansen o.a. gisteren om 10.30 uur. Hij kwam uit de VS. en zei niets.",
            [
                "Dat zei dhr. Jansen o.a. gisteren om 10.30 uur.",
                "Hij kwam uit de VS. en zei niets.",
            ],
        ),
        (
            "Het kost 100.000 euro, d.w.z. veel geld. Op 1 jan. 2022 begon het.",
            ["Het kost 100.000 euro, d.w.z. veel geld.", "Op 1 jan. 2022 begon het."],
        ),
        (
            "Prof. dr. De Vries en mr. A. Bakker kwamen. Vgl. art. 5 van het verdrag.",
            ["Prof. dr. De Vries en mr. A. Bakker kwamen.", "Vgl. art. 5 van het verdrag."],
        ),
        ("Wat zei hij? Niets! Echt niet.", ["Wat zei hij?", "Niets!", "Echt niet."]),
        (
            "“Wat nu?”, vroeg hij. Niemand wist het.",
            ["“Wat nu?”, vroeg hij.", "Niemand wist het."],
        ),
    ],
)
def test_dutch_sentence_boundaries(paragraph: str, expected: list[str]) -> None:
    assert split_sentences(paragraph) == expected


def test_a_quotation_of_several_sentences_is_split_inside() -> None:
    quote = "“We gaan niet akkoord. We gaan niet terug naar 1997 (red.). Samen staan we sterk.”"
    assert split_sentences(quote) == [
        "“We gaan niet akkoord.",
        "We gaan niet terug naar 1997 (red.).",
        "Samen staan we sterk.”",
    ]


def test_a_quotation_with_its_attribution_is_split_inside() -> None:
    assert split_sentences("“We zijn blij. Maar het werk komt niet af”, zegt Dijkgraaf.") == [
        "“We zijn blij.",
        "Maar het werk komt niet af”, zegt Dijkgraaf.",
    ]
    single = "‘Dat is zo’n auto’s verhaal’, zegt hij."
    assert split_sentences(single) == [single]


def test_a_closing_quote_stays_with_its_sentence() -> None:
    assert split_sentences("Het was laag, klonk het.” Toch kwam er een akkoord.") == [
        "Het was laag, klonk het.”",
        "Toch kwam er een akkoord.",
    ]


def test_long_sentence_is_cut_at_clauses_until_it_fits() -> None:
    sentence = ", ".join(f"deel {i} van een heel lange opsomming" for i in range(30)) + "."
    pieces = fit_to_limit(sentence, count_words, 40)
    assert len(pieces) > 1
    assert all(count <= 40 for count in count_words(pieces))
    assert squeeze("".join(pieces)) == squeeze(sentence)
    assert all(piece.endswith(",") for piece in pieces[:-1]), "cut after the commas"


def test_text_without_spaces_is_cut_anywhere() -> None:
    blob = "x" * 500
    pieces = fit_to_limit(blob, lambda texts: [len(t) // 10 + 1 for t in texts], 20)
    assert "".join(pieces) == blob
    assert all(len(p) // 10 + 1 <= 20 for p in pieces)


def test_only_segments_with_letters_or_digits_need_the_model() -> None:
    assert needs_model("Nee.")
    assert needs_model("2022.")
    for segment in ("...", "—", "“”", "*", "!?"):
        assert not needs_model(segment)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_splitting_never_loses_or_invents_text(text: str) -> None:
    pieces = split_sentences(text)
    assert all(piece and piece == piece.strip() for piece in pieces)
    assert squeeze("".join(pieces)) == squeeze(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(min_size=1, max_size=300), max_size=5), st.integers(min_value=2, max_value=30)
)
def test_fitted_pieces_fit_and_keep_everything(sentences: list[str], limit: int) -> None:
    sentences = [s.strip() for s in sentences if s.strip()]
    fitted = fit_sentences(sentences, count_words, limit)
    assert squeeze("".join(fitted)) == squeeze("".join(sentences))
    for piece, count in zip(fitted, count_words(fitted), strict=True):
        assert count <= limit or len(piece) <= 1


def test_a_megabyte_without_a_sentence_end_is_split_in_linear_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pySBD only ever sees windows of bounded length, so its quadratic cost stays bounded
    per window and the whole split is linear in the text."""
    seen: list[int] = []
    real = splitting._segment
    monkeypatch.setattr(splitting, "_segment", lambda text: seen.append(len(text)) or real(text))
    paragraph = " ".join(f"woord{i}" for i in range(150_000))  # about 1 MB, no full stop
    assert len(paragraph) > 1_000_000
    sentences = split_sentences(paragraph)
    assert " ".join(sentences) == paragraph, "nothing lost, nothing invented"
    assert max(seen) <= WINDOW_CHARS
    assert len(seen) <= 2 * len(paragraph) // WINDOW_CHARS + 2


def test_windows_are_cut_after_a_sentence_end_when_there_is_one() -> None:
    sentence = "De minister zei dinsdag dat er nieuwe plannen komen voor de dijken. "
    paragraph = sentence * 200
    pieces = list(windows(paragraph))
    assert "".join(pieces) == paragraph
    assert all(len(p) <= WINDOW_CHARS for p in pieces)
    assert all(p.endswith("dijken. ") for p in pieces[:-1]), "cut between sentences"
    assert split_sentences(paragraph) == [sentence.strip()] * 200
