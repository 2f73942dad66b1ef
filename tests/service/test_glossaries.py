"""Glossaries in the job API: made, read, listed, used and deleted by their owner only (a key,
or an anonymous sender's token); a global one is every sender's to use and nobody's to change;
a job sent with one has its terms checked by the worker."""

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from cli.main import main
from service import create_app
from tests.conftest import user_of
from tests.processes import Worker
from tests.service.test_api import poll
from tests.service.test_auth import bearer, create_key
from workers.pipeline.terms.glossary import MAX_ENTRIES, Glossary

ENTRIES = "Tweede Kamer\tHouse of Representatives\nasielzoeker(s)\tasylum seeker(s)\n"
# Two sentences name a term of ENTRIES; the built-in names list has neither term.
ARTICLE = (
    "De Tweede Kamer sprak dinsdag urenlang over de nieuwe plannen voor de dijken in het "
    "zuiden van het land.\n\nVolgens de minister komen er dit jaar minder asielzoekers naar "
    "Nederland dan vorig jaar, maar de oppositie is daar niet gerust op."
)
HOUSE = "expected the term House of Representatives"


def made(client: FlaskClient, entries: str = ENTRIES, **headers: str) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/glossaries", json={"name": "Desk", "entries": entries}, headers=headers
    )
    assert answer.status_code == 201, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def listed(client: FlaskClient, **headers: str) -> list[str]:
    return [g["id"] for g in client.get("/api/v1/glossaries", headers=headers).get_json()[
        "glossaries"]]  # fmt: skip


def test_a_glossary_is_made_read_listed_and_deleted_by_its_sender_only(app: Flask) -> None:
    mine = app.test_client()
    glossary = made(mine)
    assert glossary["links"]["self"] == f"/api/v1/glossaries/{glossary['id']}"
    assert (glossary["entry_count"], glossary["scope"]) == (2, "own")
    assert glossary["version"] == Glossary.from_tsv("any", ENTRIES).digest
    read = mine.get(glossary["links"]["self"]).get_json()
    assert read["entries"] == ENTRIES and "token" not in read, "the token is shown once"
    assert listed(mine) == [glossary["id"]]

    stranger = app.test_client()  # another browser, or a script without the token
    assert stranger.get(glossary["links"]["self"]).status_code == 404
    assert listed(stranger) == []
    assert stranger.delete(glossary["links"]["self"]).status_code == 404
    script = app.test_client()  # keeps no cookie: sends the token it was given
    token = {"X-Job-Token": glossary["token"]}
    assert script.get(glossary["links"]["self"], headers=token).status_code == 200

    assert mine.delete(glossary["links"]["self"]).status_code == 204
    assert mine.get(glossary["links"]["self"]).get_json()["error"]["code"] == "glossary_not_found"


def test_a_glossary_that_breaks_a_rule_is_refused_naming_it(client: FlaskClient) -> None:
    def refused(body: Any, **kwargs: Any) -> tuple[int, str, str]:
        answer = client.post("/api/v1/glossaries", json=body, **kwargs)
        error = answer.get_json()["error"]
        return answer.status_code, error["code"], error["message"]

    assert refused({"name": "Desk", "entries": "Poetin Putin\n"}) == (
        400, "bad_glossary", "line 1: has no tab between the Dutch and the English term",
    )  # fmt: skip
    assert refused({"name": "Desk", "entries": "a,b\n", "entries_format": "xml"})[0] == 400
    assert refused({"name": " ", "entries": ENTRIES})[1] == "bad_glossary"
    assert refused({"name": "Desk", "entries": "Poetin\tPutin\npoetin\tPutin\n"})[1:] == (
        "bad_glossary", "line 2: 'poetin' matches 'poetin', as line 1 ('Poetin') does already; "
        "keep one of them",
    )  # fmt: skip
    many = "".join(f"term{n}\tterm {n}\n" for n in range(MAX_ENTRIES + 1))
    assert refused({"name": "Desk", "entries": many})[:2] == (413, "glossary_too_large")
    assert refused({"name": "Desk", "entries": ENTRIES, "owner": "global"})[0] == 400
    as_text = client.post("/api/v1/glossaries", data=ENTRIES, content_type="text/plain")
    assert as_text.status_code == 400 and "JSON" in as_text.get_json()["error"]["message"]


def test_a_keys_glossaries_are_its_own_and_global_ones_everyones(
    redis_db: str, tmp_path: Path
) -> None:
    app = create_app({"redis_url": redis_db, "require_api_key": True})
    client = app.test_client()
    _, a = create_key(redis_db)
    _, b = create_key(redis_db)
    own = made(client, **bearer(a))
    assert "token" not in own, "a key's glossary is used with the key"
    assert client.get("/api/v1/glossaries").status_code == 401

    theirs = client.get(own["links"]["self"], headers=bearer(b))
    assert (theirs.status_code, theirs.get_json()["error"]["code"]) == (404, "glossary_not_found")
    assert own["id"] not in listed(client, **bearer(b))
    assert client.delete(own["links"]["self"], headers=bearer(b)).status_code == 404
    job = {"text": ARTICLE, "summary": False, "glossary_id": own["id"]}
    used = client.post("/api/v1/jobs", json=job, headers=bearer(b))
    assert (used.status_code, used.get_json()["error"]["code"]) == (404, "glossary_not_found")
    assert client.post("/api/v1/jobs", json=job, headers=bearer(a)).status_code == 202

    (tmp_path / "newsroom.tsv").write_text(ENTRIES)
    out = CliRunner(env={"VERTAAL_REDIS_URL": redis_db}).invoke(
        main, ["glossaries", "create", "Newsroom", str(tmp_path / "newsroom.tsv")]
    )
    assert out.exit_code == 0, out.output
    shared = re.search(r"id:\s+(\w+)", out.stdout)
    assert shared is not None
    for key in (a, b):
        assert shared[1] in listed(client, **bearer(key))
        job = {"text": ARTICLE, "summary": False, "glossary_id": shared[1]}
        assert client.post("/api/v1/jobs", json=job, headers=bearer(key)).status_code == 202
    changed = client.delete(f"/api/v1/glossaries/{shared[1]}", headers=bearer(a))
    assert (changed.status_code, changed.get_json()["error"]["code"]) == (
        403, "glossary_read_only",
    )  # fmt: skip
    scopes = {g["id"]: g["scope"] for g in client.get(
        "/api/v1/glossaries", headers=bearer(a)).get_json()["glossaries"]}  # fmt: skip
    assert scopes == {own["id"]: "own", shared[1]: "global"}, "own first, then global"


def test_a_job_with_a_glossary_has_its_terms_checked(app: Flask, live_worker: Worker) -> None:
    client = user_of(app)
    glossary = made(client)

    def flags(glossary_id: str | None) -> tuple[int, list[str]]:
        job = {"text": ARTICLE, "summary": False, "glossary_id": glossary_id}
        answer = client.post("/api/v1/jobs", json={k: v for k, v in job.items() if v})
        done = poll(client, answer.get_json()["id"])[-1]
        assert done["status"] == "done", done
        checks = done["result"]["checks"]
        found = [f["message"] for p in checks["paragraphs"] for s in p for f in s]
        return answer.status_code, found + [f["message"] for f in checks["title"]]

    status, with_terms = flags(glossary["id"])
    assert status == 202 and HOUSE in with_terms, "tiny models' gibberish misses the term"
    assert "expected the term asylum seekers" in with_terms, "the plural, as the entry says"
    assert HOUSE not in flags(None)[1], "without the glossary, no such term is expected"
    assert flags(glossary["id"]) == (200, with_terms), "the same version: from the cache"
    changed = made(client, ENTRIES.replace("House of Representatives", "Lower House"))
    status, again = flags(changed["id"])
    assert status == 202, "another version of the terms is translated again"
    assert "expected the term Lower House" in again and HOUSE not in again
