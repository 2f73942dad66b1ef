import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from tests.conftest import ARTICLES
from workers.pipeline.terms.glossary import Glossary
from workers.pipeline.terms.names import (
    NAMES_FILE,
    builtin_names,
    glossary_for,
    read_names,
)

ROOT = Path(__file__).parents[4]
# Dutch words that are also, or look like, names of places and people: none may be an entry.
# (Polen: Poland, and poles; Luik: Liège, and a hatch; Aken: Aachen, and barges; Bergen: Mons,
# and mountains; Jordaan: the river, and a part of Amsterdam; the words from other languages.)
LOOKALIKES = {"polen", "luik", "aken", "bergen", "engels", "kanton", "jordaan", "kaap", "wit",
              "rode", "plein", "haag", "turks", "grieks", "arabisch", "sjah", "tsaar", "moskee",
              "imam", "kalief", "ajatollah", "oekaze", "datsja"}  # fmt: skip


def dutch_words() -> set[str]:
    """Words the sample articles write in lower case after a sentence's first word: ordinary
    Dutch words, never names."""
    words = set()
    for path in ARTICLES.glob("*.txt"):
        for sentence in re.split(r"[.!?:]\s+|\n", path.read_text()):
            words |= {w for w in re.findall(r"[^\W\d_]+", sentence)[1:] if w.islower()}
    return words | LOOKALIKES


def test_the_names_list_parses_into_a_glossary_without_duplicates() -> None:
    rows = read_names()
    assert len(rows) >= 300
    assert len(builtin_names()) == len(rows), "every row an entry; none matches another's forms"
    assert all(row.source.strip() for row in rows)


def test_every_entry_is_a_name_spelled_differently_in_english() -> None:
    for row in read_names():
        assert row.dutch[0].isupper(), row
        assert row.dutch != row.english, row


def test_no_entry_matches_an_ordinary_dutch_word() -> None:
    words = dutch_words()
    assert len(words) > 300, "the word list must be big enough to catch something"
    clashes = sorted(
        (form, entry.dutch) for form, (entry, _) in builtin_names().forms.items() if form in words
    )
    assert not clashes


def test_a_bad_names_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "names.tsv"
    bad.write_text("# comment\ndutch\tenglish\nPoetin\tPutin\n")
    with pytest.raises(ValueError, match="the first line must be dutch english source"):
        read_names(bad)
    bad.write_text("dutch\tenglish\tsource\nPoetin\tPutin\t\n")
    with pytest.raises(ValueError, match="row 2 needs a Dutch, English and source field"):
        read_names(bad)


def test_the_names_file_ships_with_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["workers"]
    inside = NAMES_FILE.relative_to(ROOT / "workers").as_posix()
    assert any(fnmatch(inside, pattern) for pattern in patterns)


def test_the_users_glossary_goes_over_the_names_unless_they_are_off() -> None:
    user = Glossary.from_tsv("Desk", "Poetin\tPoetin\n")
    merged = glossary_for(user)
    assert merged is not None
    assert merged.forms["poetin"][0].english == "Poetin"
    assert merged.forms["zelenski"][0].english == "Zelensky"
    assert glossary_for(user, names=False) is user
    assert glossary_for(None) is builtin_names()
    assert glossary_for(None, names=False) is None
