"""`vertaal glossaries` (the operator's global glossaries, in the service's Redis) and `vertaal
translate --glossary FILE|ID`, in this process and through a running service."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask

from cli.main import main
from service.context import services
from tests.conftest import TinyModels
from tests.processes import Worker, live_server
from tests.service.test_auth import create_key
from tests.service.test_glossaries import ARTICLE, ENTRIES, HOUSE

LAST = "1 translated, 0 skipped, 0 failed, 0 ignored"
SKIPPED = "0 translated, 1 skipped, 0 failed, 0 ignored"


def vertaal(*args: str, **env: str) -> Result:
    return CliRunner(env=env).invoke(main, list(args))


def flagged(document: Path) -> list[str]:
    checks: dict[str, Any] = json.loads(document.read_text())["checks"]
    found = [f["message"] for p in checks["paragraphs"] for s in p for f in s]
    return found + [f["message"] for f in checks["title"]]


def test_the_operator_makes_lists_shows_and_deletes_global_glossaries(
    redis_db: str, tmp_path: Path
) -> None:
    env = {"VERTAAL_REDIS_URL": redis_db}
    (tmp_path / "desk.tsv").write_text(ENTRIES)
    (tmp_path / "terms").write_text('Tweede Kamer,"House of Representatives"\n')
    made = vertaal("glossaries", "create", "Desk", str(tmp_path / "desk.tsv"), **env)
    assert made.exit_code == 0, made.output
    as_csv = vertaal("glossaries", "create", "Csv", str(tmp_path / "terms"), "--csv", **env)
    assert "entries: 1" in as_csv.stdout
    ids = [re.search(r"id:\s+(\w+)", r.stdout)[1] for r in (made, as_csv)]  # type: ignore[index]
    listed = vertaal("glossaries", "list", **env).stdout.splitlines()
    assert {line.split()[0] for line in listed[1:]} == set(ids), listed

    shown = vertaal("glossaries", "show", ids[0], **env)
    assert shown.stdout == ENTRIES and "Desk: 2 entries" in shown.stderr
    assert vertaal("glossaries", "delete", ids[0], **env).stdout.startswith(f"deleted {ids[0]}")
    gone = vertaal("glossaries", "show", ids[0], **env)
    assert gone.exit_code == 2 and "no global glossary" in gone.stderr

    (tmp_path / "bad.tsv").write_text("Tweede Kamer\tHouse\ntweede kamer\tHouse\n")
    bad = vertaal("glossaries", "create", "Bad", str(tmp_path / "bad.tsv"), **env)
    assert bad.exit_code == 2 and "line 2" in bad.stderr


@pytest.fixture
def article(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "kamer.txt").write_text(ARTICLE)
    return tmp_path / "in"


def test_translate_enforces_a_glossary_file_or_a_global_one(
    article: Path, tmp_path: Path, tiny_env: TinyModels, redis_db: str
) -> None:
    out, glossary = tmp_path / "out", tmp_path / "desk.tsv"
    glossary.write_text(ENTRIES)
    first = vertaal("translate", str(article), "-o", str(out), "--no-summary", "--glossary",
                    str(glossary))  # fmt: skip
    assert first.stdout.strip() == LAST, first.output
    assert HOUSE in flagged(out / "kamer.json"), "tiny models' gibberish misses the term"
    again = vertaal("translate", str(article), "-o", str(out), "--no-summary",
                    VERTAAL_GLOSSARY=str(glossary))  # fmt: skip
    assert again.stdout.strip() == SKIPPED, "the same terms, by the option's variable"
    stored = vertaal("glossaries", "create", "Desk", str(glossary), VERTAAL_REDIS_URL=redis_db)
    glossary_id = re.search(r"id:\s+(\w+)", stored.stdout)[1]  # type: ignore[index]
    by_id = vertaal("translate", str(article), "-o", str(out), "--no-summary", "--glossary",
                    glossary_id, VERTAAL_REDIS_URL=redis_db)  # fmt: skip
    assert by_id.stdout.strip() == SKIPPED, "a global glossary with the same entries"

    glossary.write_text(ENTRIES.replace("House of Representatives", "Lower House"))
    changed = vertaal("translate", str(article), "-o", str(out), "--no-summary", "--glossary",
                      str(glossary))  # fmt: skip
    assert changed.stdout.strip() == LAST, "changed terms: translated again"
    assert "expected the term Lower House" in flagged(out / "kamer.json")
    unknown = vertaal("translate", str(article), "-o", str(out), "--glossary", "0" * 32,
                      VERTAAL_REDIS_URL=redis_db)  # fmt: skip
    assert unknown.exit_code == 2 and "no global glossary" in unknown.stderr
    neither = vertaal("translate", str(article), "-o", str(out), "--glossary", "desk")
    assert neither.exit_code == 2 and "neither a glossary file nor a glossary id" in neither.stderr


@pytest.mark.slow
def test_translate_with_server_creates_the_file_there_or_names_its_id(
    app: Flask,
    live_worker: Worker,
    article: Path,
    tmp_path: Path,
    tiny_env: TinyModels,
    redis_url: str,
) -> None:
    out, glossary = tmp_path / "out", tmp_path / "desk.tsv"
    glossary.write_text(ENTRIES)
    with live_server(app) as url:
        sent = vertaal("translate", str(article), "-o", str(out), "--no-summary", "--server",
                       url, "--glossary", str(glossary))  # fmt: skip
        assert sent.stdout.strip() == LAST, sent.output
        assert HOUSE in flagged(out / "kamer.json")
        here = vertaal("translate", str(article), "-o", str(out), "--no-summary", "--glossary",
                       str(glossary))  # fmt: skip
        assert here.stdout.strip() == SKIPPED, "the same version, whichever route made it"
        _, key = create_key(redis_url)
        for _ in range(2):
            keyed = vertaal("translate", str(article), "-o", str(out), "--server", url,
                            "--glossary", str(glossary), "--api-key", key)  # fmt: skip
            assert keyed.exit_code == 0, keyed.output
        with app.app_context():
            owned = [g for g in services().glossaries.all() if g.owner.startswith("key:")]
        assert len(owned) == 1, "a key's runs reuse the glossary they made"
        unknown = vertaal("translate", str(article), "-o", str(out), "--server", url,
                          "--glossary", "0" * 32)  # fmt: skip
        assert unknown.exit_code == 2 and "no glossary" in unknown.stderr
