"""The glossaries page and the translate form's picker, through the Flask test client: each
browser sees, picks and deletes its own glossaries, and every global one; a form post needs
its CSRF token."""

import re

from flask import Flask
from flask.testing import FlaskClient

from service.context import services
from tests.service.test_glossaries import ARTICLE, ENTRIES
from tests.service.test_web import csrf_token
from workers.glossaries import GLOBAL
from workers.pipeline.terms.glossary import Glossary


def create(client: FlaskClient, name: str, entries: str = ENTRIES) -> tuple[int, str]:
    answer = client.post(
        "/glossaries",
        data={"csrf_token": csrf_token(client), "name": name, "entries": entries,
              "entries_format": "tsv"},
    )  # fmt: skip
    return answer.status_code, answer.headers.get("Location") or answer.get_data(as_text=True)


def picked(client: FlaskClient) -> list[str]:
    """The names the form's glossary picker offers."""
    form = client.get("/").get_data(as_text=True)
    return re.findall(r'<option value="[0-9a-f]{32}"[^>]*>([^<(]+) \(', form)


def test_a_browser_makes_picks_reads_and_deletes_its_own_glossaries(app: Flask) -> None:
    mine, other = app.test_client(), app.test_client()
    status, link = create(mine, "Desk")
    assert status == 303 and re.fullmatch("/glossaries/[0-9a-f]{32}", link)
    shown = mine.get(link).get_data(as_text=True)
    assert "House of Representatives" in shown and "asielzoeker(s)" in shown
    assert "Desk" in mine.get("/glossaries").get_data(as_text=True)
    assert picked(mine) == ["Desk"] and picked(other) == []
    assert other.get(link).status_code == 404

    with app.app_context():  # as `vertaal glossaries create` makes one
        shared = services().glossaries.create(Glossary.from_tsv("Newsroom", ENTRIES), GLOBAL)
    assert picked(mine) == ["Desk", "Newsroom"] and picked(other) == ["Newsroom"]
    glossary_id = link.rsplit("/", 1)[1]
    sent = mine.post(
        "/", data={"csrf_token": csrf_token(mine), "text": ARTICLE, "glossary_id": glossary_id}
    )
    assert sent.status_code == 303
    with app.app_context():
        job = services().jobs.get(sent.headers["Location"].rsplit("/", 1)[1])
        assert job is not None and job.options.glossary == Glossary.from_tsv("x", ENTRIES).digest

    token = {"csrf_token": csrf_token(other)}
    assert other.post(f"{link}/delete", data=token).status_code == 404
    assert other.post(f"/glossaries/{shared.id}/delete", data=token).status_code == 403
    assert mine.post(f"{link}/delete", data={"csrf_token": csrf_token(mine)}).status_code == 303
    assert picked(mine) == ["Newsroom"]


def test_a_refused_glossary_is_shown_again_with_the_reason(client: FlaskClient) -> None:
    status, page = create(client, "Desk", "Tweede Kamer House of Representatives\n")
    assert status == 400
    assert "Line 1: has no tab between the Dutch and the English term." in page
    kept = re.search(r"<textarea[^>]*>Tweede Kamer House of Representatives\s*</textarea>", page)
    assert kept, "the input shown again"
    without_token = client.post("/glossaries", data={"name": "Desk", "entries": ENTRIES})
    assert without_token.status_code == 400 and picked(client) == []
