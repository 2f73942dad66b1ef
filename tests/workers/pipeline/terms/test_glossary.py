import re

import pytest

from workers.errors import GlossaryError, GlossaryTooLargeError
from workers.pipeline.terms import glossary as glossary_module
from workers.pipeline.terms.glossary import MAX_TERM_CHARS, Entry, Glossary

TSV = "Poetin\tPutin\nasielzoeker(s)\tasylum seeker(s)\nOeigoer(en|se)\tUyghur(s)\n"


def test_tsv_entries_with_endings_are_read_and_written_back_the_same() -> None:
    glossary = Glossary.from_tsv("Desk", TSV)
    assert glossary.entries == (
        Entry("Poetin", "Putin"),
        Entry("asielzoeker", "asylum seeker", ("s",), "s"),
        Entry("Oeigoer", "Uyghur", ("en", "se"), "s"),
    )
    assert glossary.to_tsv() == TSV
    assert Glossary.from_tsv("Desk", glossary.to_tsv()) == glossary


def test_the_digest_is_the_content_whatever_the_order_or_name() -> None:
    glossary = Glossary.from_tsv("Desk", TSV)
    reordered = Glossary.from_tsv("Other", "".join(reversed(TSV.splitlines(keepends=True))))
    changed = Glossary.from_tsv("Desk", TSV.replace("Putin", "Poutine"))
    assert glossary.digest == reordered.digest
    assert glossary.digest != changed.digest
    assert len(glossary.digest) == 64


def test_blank_lines_windows_line_ends_and_spaces_around_terms_are_tolerated() -> None:
    glossary = Glossary.from_tsv("Desk", "\r\n Poetin \t  Putin\r\n\r\nTweede  Kamer\tHouse\r\n")
    assert [e.fields() for e in glossary.entries] == [
        ("Poetin", "Putin"),
        ("Tweede Kamer", "House"),
    ]


def test_csv_quoted_fields_header_and_deepl_language_columns() -> None:
    text = 'source,target\n"Navalni, Aleksej","Navalny, Alexei",nl,en\nPoetin,Putin\n'
    glossary = Glossary.from_csv("Desk", text)
    assert list(glossary.rows()) == [("Navalni, Aleksej", "Navalny, Alexei"), ("Poetin", "Putin")]


@pytest.mark.parametrize(
    ("text", "entries_format", "message"),
    [
        ("Poetin\tPutin\nZelenski Zelensky\n", "tsv", "line 2: has no tab"),
        ("Poetin\tPutin\tRusland\n", "tsv", "line 1: has more than one tab"),
        ("\tPutin\n", "tsv", "line 1: the Dutch term is empty"),
        ("Poetin\t\x07Putin\n", "tsv", "line 1: the English term '\\x07Putin' contains a control"),
        ("Poetin\t...\n", "tsv", "line 1: the English term '...' has no letter or digit"),
        ("poetin\tPutin\nPoetin\tPoutine\n", "tsv", "line 2: 'Poetin' matches 'poetin', as line 1"),
        ("asielzoeker(s)\tx\nasielzoekers\ty\n", "tsv", "line 2: 'asielzoekers' matches"),
        ("Poetin\tPutin\nPoetins\tPutin's\n", "tsv", "line 2: 'Poetins' matches 'poetins'"),
        ("kabinet\tcabinet(s)\n", "tsv", "line 1: the English term 'cabinet(s)' has a plural"),
        ("kabinet(ten)\tcabinet(s|es)\n", "tsv", "line 1: the English term 'cabinet(s|es)' may"),
        ("kabinet(t3n)\tcabinet\n", "tsv", "line 1: 't3n' is not an ending"),
        ("Poetin,Putin,de,en\n", "csv", "line 1: expected source,target[,nl,en]; got 4"),
        ("Poetin\n", "csv", "line 1: has no comma"),
        ('"Poetin,Putin\n', "csv", "line 1: not valid CSV (unexpected end of data)"),
        ("Poetin\tPutin\n", "xlsx", "unknown entries format 'xlsx'; use one of tsv, csv"),
    ],
)
def test_bad_entries_are_refused_naming_the_line_and_the_problem(
    text: str, entries_format: str, message: str
) -> None:
    with pytest.raises(GlossaryError, match="^" + re.escape(message)) as caught:
        Glossary.parse("Desk", text, entries_format)
    assert caught.value.code == "bad_glossary"
    assert caught.value.http_status == 400


def test_a_term_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(GlossaryError, match=f"line 1: the Dutch term is {MAX_TERM_CHARS + 1} ch"):
        Glossary.from_tsv("Desk", "x" * (MAX_TERM_CHARS + 1) + "\ty\n")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bell\x07name"])
def test_a_glossary_needs_a_printable_name(name: str) -> None:
    with pytest.raises(GlossaryError, match="a glossary needs a name"):
        Glossary.from_tsv(name, TSV)


def test_too_many_entries_or_bytes_is_413(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(glossary_module, "MAX_ENTRIES", 3)
    with pytest.raises(GlossaryTooLargeError, match=r"more than 3 entries \(line 4 is one more\)"):
        Glossary.from_tsv("Desk", "".join(f"term{n}\tx\n" for n in range(4)))
    monkeypatch.setattr(glossary_module, "MAX_BYTES", 20)
    with pytest.raises(GlossaryTooLargeError, match="is 21 bytes; at most 20") as caught:
        Glossary.from_tsv("Desk", "Poetin\tPutin\n" + "\n" * 8)
    assert (caught.value.code, caught.value.http_status) == ("glossary_too_large", 413)
    with pytest.raises(GlossaryTooLargeError, match="bytes as TSV"):
        Glossary.from_entries("Desk", {"Poetin": "Putin", "Zelenski": "Zelensky"})


def test_the_real_limits_accept_ten_thousand_entries() -> None:
    glossary = Glossary.from_tsv("Desk", "".join(f"term{n}\tx\n" for n in range(10_000)))
    assert len(glossary) == 10_000


def test_from_entries_takes_a_mapping_or_pairs_and_names_the_entry() -> None:
    assert Glossary.from_entries("Desk", {"Poetin": "Putin"}) == Glossary.from_entries(
        "Desk", [("Poetin", "Putin")]
    )
    with pytest.raises(GlossaryError, match=r"^entry 2: the English term is empty"):
        Glossary.from_entries("Desk", [("Poetin", "Putin"), ("Zelenski", " ")])


def test_forms_of_a_name_include_genitives_and_of_a_noun_its_endings_only() -> None:
    assert set(Entry.parse("Poetin", "Putin").forms()) == {"poetin", "poetins", "poetin's",
                                                           "poetin’s"}  # fmt: skip
    assert "klitsjkos" in Entry.parse("Klitsjko", "Klitschko").forms()
    assert "tsjaikovskis" in Entry.parse("Tsjaikovski", "Tchaikovsky").forms()
    assert set(Entry.parse("Boris", "Boris").forms()) == {"boris", "boris's", "boris’s"}
    assert set(Entry.parse("stad(je|jes)", "town(s)").forms()) == {"stad", "stadje", "stadjes"}
    assert Entry.parse("stad(je|jes)", "town(s)").forms()["stadjes"].english == "towns"


def test_a_users_entry_wins_over_the_base_list() -> None:
    names = Glossary.from_tsv("names", "Poetin\tPutin\nZelenski\tZelensky\n")
    user = Glossary.from_tsv("Desk", "poetins\tof Putin\nKiev\tKiev\n")
    merged = user.over(names)
    assert merged.name == "Desk"
    assert [e.dutch for e in merged.entries] == ["poetins", "Kiev", "Zelenski"]
