"""The HTML pages through Flask's test client: form handling, safety headers, job pages."""

import io
import json
import re
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.web import CHECK_WORDS, NOTHING_TO_TRANSLATE
from tests.conftest import ARTICLES, TinyModels, browser_owner, run_queued_job, settings_for
from tests.processes import free_port
from tests.service.test_api import unique_article
from workers.engines.factory import load_engines
from workers.jobs.record import JobError, JobOptions, JobStatus
from workers.pipeline.article import (
    NO_SUMMARY,
    Checks,
    Models,
    RawDocument,
    Result,
    Source,
    SourceFile,
    Translation,
)
from workers.pipeline.checks.sentence import Check, Flag
from workers.pipeline.run import RunOptions, translate_article
from workers.settings import Settings

MARKUP_NAME = "<img src=x onerror=alert(1)> navo.txt"
ENGLISH = (
    "NATO and Russia met in Brussels on Wednesday to discuss security in Europe, but the talks "
    "ended without any agreement on the troops gathered near the border."
)


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def post_form(client: FlaskClient, **fields: object) -> "object":
    return client.post("/", data={"csrf_token": csrf_token(client), **fields})


def test_pages_send_a_strict_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Referrer-Policy" in response.headers
    assert "<script>" not in response.get_data(as_text=True), "no inline script"
    assert 'src="/static/app.js"' in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused_and_keeps_the_text(client: FlaskClient) -> None:
    response = client.post("/", data={"text": "Mijn artikel over de dijken."})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The form had expired or did not come from this page" in page
    assert "Mijn artikel over de dijken.</textarea>" in page


def test_unticked_summary_box_means_no_summary(app: Flask) -> None:
    client = app.test_client()
    store = app.extensions["vertaal"].jobs
    unticked = post_form(client, text=unique_article(3, seed=41), summary="false")
    ticked = client.post(
        "/",
        data={"csrf_token": csrf_token(client), "text": unique_article(3, seed=42),
              "summary": ["false", "true"]},
    )  # fmt: skip
    for response, expected in ((unticked, False), (ticked, True)):
        job = store.get(response.headers["Location"].rsplit("/", 1)[-1])
        assert job is not None and job.options.summary is expected


def test_form_submission_redirects_to_the_job_page(redis_db: str) -> None:
    # A database no worker listens to: the job stays queued while the page is read.
    client = create_app({"redis_url": redis_db}).test_client()
    response = post_form(client, text=unique_article(3, seed=40), summary="true")
    assert response.status_code == 303
    job_page = response.headers["Location"]
    assert re.fullmatch(r"/jobs/[0-9a-f]{32}", job_page)
    page = client.get(job_page).get_data(as_text=True)
    assert 'role="progressbar"' in page and "aria-valuenow" not in page, "no amount yet"
    assert "Waiting to translate the article…" in page and "Waiting in the queue" in page
    assert "0 of 0" not in page
    assert "Cancel this job" in page


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"text": ""}, 400, NOTHING_TO_TRANSLATE),
        ({"text": "   "}, 400, NOTHING_TO_TRANSLATE),
        ({"file": (io.BytesIO(b""), "leeg.txt")}, 400, "leeg.txt holds no article text."),
        (
            {"text": "De NAVO praat. " * 70_000},
            413,
            "The submitted text is 1,050,000 characters long; the limit is 1,000,000 characters.",
        ),
        (
            {"file": (io.BytesIO(b"%PDF"), "scan.pdf")},
            415,
            ".pdf files are not supported; use one of .txt, .md, .html, .htm, .docx.",
        ),
    ],
)
def test_form_errors_are_said_once_with_the_text_kept(
    client: FlaskClient, fields: dict[str, object], status: int, message: str
) -> None:
    response = post_form(client, **fields)
    assert response.status_code == status
    page = response.get_data(as_text=True)
    alert = re.search(r'data-testid="form-error">(.*?)</div>', page, re.S)
    assert alert and re.sub(r"<[^>]+>|\s+", " ", alert.group(1)).strip() == message
    if isinstance(fields.get("text"), str) and len(str(fields["text"])) < 1000:
        assert f">{fields['text']}</textarea>" in page


def test_not_dutch_points_at_the_checkbox_on_the_page(client: FlaskClient) -> None:
    refused = post_form(client, text=ENGLISH)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "looks like English (en, " in page and "tick “Skip the language check”" in page
    assert "--any-language" not in page and "check_language" not in page.split("<form")[0]
    assert 'name="check_language" value="false"' in page
    assert "Skip the language check (it is Dutch, or translate it anyway)" in page
    accepted = post_form(client, text=ENGLISH, check_language="false")
    assert accepted.status_code == 303


def test_a_file_over_the_upload_limit_is_refused_in_the_forms_words(redis_url: str) -> None:
    client = create_app({"redis_url": redis_url, "max_upload_bytes": 10_000}).test_client()
    big = io.BytesIO(b"<p>" + b"De NAVO praat met Rusland. " * 1000 + b"</p>")
    response = post_form(client, file=(big, "article.html"))
    assert response.status_code == 413
    assert "That is more than the 0.01 MB a file (or the form) may hold." in response.get_data(
        as_text=True
    )


def test_the_counter_and_the_limits_are_stated_in_one_unit_each(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    counter = re.search(r'id="counter"[^>]*>(.*?)</p>', page, re.S)
    assert counter and "of 1,000,000 characters" in counter.group(1)
    assert "bytes" not in counter.group(1) and "MB" not in counter.group(1)
    assert "Files up to\n      10 MB" in page or "Files up to 10 MB" in " ".join(page.split())


def test_form_keeps_the_text_when_redis_is_down(tiny_models: object) -> None:
    client = create_app(
        {"redis_url": f"redis://127.0.0.1:{free_port()}/0", "secret_key": "test"}
    ).test_client()
    response = post_form(client, text="Mijn artikel over de dijken in Nederland.")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Vertaal is not available right now" in page
    assert "Mijn artikel over de dijken in Nederland.</textarea>" in page


@pytest.fixture
def finished(app: Flask, tiny_settings: Settings) -> tuple[FlaskClient, str, Result]:
    """A done job, made in-process from a sample article."""
    text = (ARTICLES / "nato-russia-council-dialogue.txt").read_text()
    result = translate_article(RawDocument(text), load_engines(tiny_settings), RunOptions())
    store = app.extensions["vertaal"].jobs
    client = app.test_client()
    job = store.create(
        SourceFile.pasted(text), JobOptions(), filename=MARKUP_NAME, owner=browser_owner(client)
    )
    store.end(job.id, JobStatus.DONE, result=result)
    return client, job.id, result


def test_a_done_job_page_shows_everything(finished: tuple[FlaskClient, str, Result]) -> None:
    client, job_id, result = finished
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'data-testid="summary"' in page
    assert page.count('data-testid="translation-paragraph"') == len(result.source.paragraphs)
    assert page.count('data-testid="source-paragraph"') == len(result.source.paragraphs)
    assert 'data-testid="date">2022-01<' in page
    assert f"Removed by the cleaner ({len(result.removed)})" in page
    assert "&lt;img src=x onerror=alert(1)&gt; navo.txt" in page, "the file name is escaped"
    assert "<img src=x" not in page
    assert "Translated by marian@local-" in page and "summarized by bart@local-" in page
    assert "/marian" not in page, "no path on the server"


def test_downloads(finished: tuple[FlaskClient, str, Result]) -> None:
    client, job_id, result = finished
    markdown = client.get(f"/jobs/{job_id}/translation.md")
    assert markdown.status_code == 200
    assert markdown.mimetype == "text/markdown"
    assert "attachment" in markdown.headers["Content-Disposition"]
    assert markdown.headers["Content-Disposition"] == (
        'attachment; filename="<img src=x onerror=alert(1)> navo.en.md"'
    )
    expected = result.to_markdown("<img src=x onerror=alert(1)> navo")
    assert markdown.get_data(as_text=True) == expected
    data = client.get(f"/jobs/{job_id}/result.json")
    assert json.loads(data.get_data(as_text=True)) == result.to_dict()


def test_failed_and_cancelled_job_pages(app: Flask) -> None:
    store = app.extensions["vertaal"].jobs
    client = app.test_client()
    owner = browser_owner(client)
    failed = store.create(SourceFile.pasted("Tekst."), JobOptions(), owner=owner)
    store.end(
        failed.id,
        JobStatus.FAILED,
        error=JobError("timeout", "the article took longer than 1800 s"),
    )
    page = client.get(f"/jobs/{failed.id}").get_data(as_text=True)
    assert 'data-testid="job-error"' in page and "the article took longer than 1800 s" in page
    assert client.get(f"/jobs/{failed.id}/translation.md").status_code == 404

    cancelled = store.create(SourceFile.pasted("Tekst."), JobOptions(), owner=owner)
    client.post(f"/jobs/{cancelled.id}/cancel", data={"csrf_token": csrf_token(client)})
    assert 'data-testid="job-cancelled"' in client.get(f"/jobs/{cancelled.id}").get_data(
        as_text=True
    )


def test_unknown_job_page_is_a_404_page_not_json(client: FlaskClient) -> None:
    response = client.get("/jobs/" + "f" * 32)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "the link is wrong, the job has expired" in response.get_data(as_text=True)


def test_pasted_text_downloads_under_one_name_with_the_cli_renderer(
    app: Flask, tiny_settings: Settings
) -> None:
    text = (ARTICLES / "sherman-brussels-talks.txt").read_text()
    result = translate_article(RawDocument(text), load_engines(tiny_settings), RunOptions())
    result = replace(result, translation=replace(result.translation, title=None))
    store = app.extensions["vertaal"].jobs
    client = app.test_client()
    job = store.create(SourceFile.pasted(text), JobOptions(), owner=browser_owner(client))
    store.end(job.id, JobStatus.DONE, result=result)
    markdown = client.get(f"/jobs/{job.id}/translation.md")
    stem = f"vertaal-{job.id[:8]}"
    assert markdown.headers["Content-Disposition"] == f'attachment; filename="{stem}.en.md"'
    assert markdown.get_data(as_text=True) == result.to_markdown(stem)
    assert markdown.get_data(as_text=True).startswith(f"# {stem}\n")


def test_an_empty_summary_says_the_model_wrote_none(app: Flask) -> None:
    result = Result(
        source=Source(title=None, date=None, paragraphs=[["Zin."]]),
        translation=Translation(title=None, paragraphs=[["Sentence."]]),
        summary="",
        removed=[],
        models=Models(translation="m", summary="s"),
        timings={},
    )
    store = app.extensions["vertaal"].jobs
    client = app.test_client()
    job = store.create(SourceFile.pasted("Zin."), JobOptions(), owner=browser_owner(client))
    store.end(job.id, JobStatus.DONE, result=result)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'data-testid="no-summary"' in page and NO_SUMMARY in page
    assert f"*{NO_SUMMARY}*" in result.to_markdown("x")


def test_the_api_reference_page_uses_only_this_apps_files(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert "<script>" not in html and "<style" not in html
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        with client.get(asset) as response:  # a file response holds the file open
            assert response.status_code == 200, asset
    assert 'href="/api/v1/docs"' in client.get("/").get_data(as_text=True), "linked from the footer"


def test_an_html_page_with_its_markup_kept_through_the_api_and_the_form(
    redis_db: str, tiny_models: TinyModels
) -> None:
    from tests.workers.pipeline.test_markup import PAGE, tags

    settings = settings_for(
        tiny_models,
        redis_url=redis_db,
    )
    client = create_app(settings.model_dump()).test_client()
    by_api = client.post("/api/v1/jobs", json={"text": PAGE, "format": "html", "summary": False})
    assert by_api.status_code == 202, by_api.get_json()
    other = PAGE.replace("Zwolle", "Deventer").encode()  # the same page would join the job
    by_form = post_form(client, file=(io.BytesIO(other), "dijken.html"), format="html",
                        summary="false")  # fmt: skip
    assert by_form.status_code == 303
    plain = client.post("/api/v1/jobs", json={"text": PAGE, "filename": "p.html", "summary": False})
    ids = [by_api.get_json()["id"], by_form.headers["Location"].rsplit("/", 1)[-1]]
    for job_id in [*ids, plain.get_json()["id"]]:
        run_queued_job(job_id, settings)

    api_result = client.get(f"/api/v1/jobs/{ids[0]}").get_json()["result"]
    assert tags(api_result["markup"], "html.parser") == tags(PAGE, "html.parser")
    assert api_result["translation"]["paragraphs"], "the article's own result as well"
    assert (
        client.get(f"/api/v1/jobs/{plain.get_json()['id']}").get_json()["result"]["markup"] is None
    )

    page = client.get(f"/jobs/{ids[1]}").get_data(as_text=True)
    assert 'data-testid="download-html"' in page
    download = client.get(f"/jobs/{ids[1]}/translation.html")
    assert download.status_code == 200 and download.mimetype == "text/html"
    assert download.headers["Content-Disposition"] == 'attachment; filename="dijken.en.html"'
    assert tags(download.get_data(as_text=True), "html.parser") == tags(
        other.decode(), "html.parser"
    )
    assert client.get(f"/jobs/{plain.get_json()['id']}/translation.html").status_code == 404


def test_every_check_has_words_for_readers() -> None:
    assert set(CHECK_WORDS) == set(Check)


def checked_page(app: Flask, checks: Checks | None) -> BeautifulSoup:
    result = Result(
        source=Source(
            title="Poetin <i>spreekt</i>", date=None,
            paragraphs=[["Eén.", "Het kost 1,5 miljoen."], ["Nog een zin."]],
        ),
        translation=Translation(
            title="Putin <i>speaks</i>", paragraphs=[["One.", "It costs 1.5."], ["Nog een zin."]]
        ),
        summary=None, removed=[], models=Models("m", None), timings={}, checks=checks,
    )  # fmt: skip
    store = app.extensions["vertaal"].jobs
    client = app.test_client()
    job = store.create(SourceFile.pasted("Zin."), JobOptions(), owner=browser_owner(client))
    store.end(job.id, JobStatus.DONE, result=result)
    return BeautifulSoup(client.get(f"/jobs/{job.id}").get_data(as_text=True), "html.parser")


def test_flagged_sentences_are_marked_with_their_reasons(app: Flask) -> None:
    number = Flag(Check.NUMBER_MISSING, "expected 1.5 million (Dutch: 1,5 miljoen)")
    dutch = Flag(Check.UNTRANSLATED, "the translation still reads as Dutch")
    term = Flag(Check.TERM_MISSING, "expected the term <img src=x onerror=alert(1)>")
    page = checked_page(app, Checks.of([term], [[[], [number]], [[dutch, number]]]))

    count = page.select_one("[data-testid=flag-count]")
    assert count is not None and count.strong is not None
    assert count.strong.get_text() == "3 sentences to check."
    marks = page.select("mark.flagged")
    assert [m.get_text() for m in marks] == ["Putin <i>speaks</i>", "It costs 1.5.", "Nog een zin."]
    notes = []
    for mark in marks:
        assert mark["tabindex"] == "0", "reachable by keyboard"
        note = page.find(id=mark["aria-describedby"])
        assert note is not None and note["role"] == "tooltip"
        notes.append([" ".join(flag.get_text().split()) for flag in note.select(".flag")])
    assert notes == [
        [f"{CHECK_WORDS[Check.TERM_MISSING]}: expected the term <img src=x onerror=alert(1)>."],
        [f"{CHECK_WORDS[Check.NUMBER_MISSING]}: {number.message}."],
        [f"{CHECK_WORDS[Check.UNTRANSLATED]}: {dutch.message}.",
         f"{CHECK_WORDS[Check.NUMBER_MISSING]}: {number.message}."],
    ]  # fmt: skip
    assert not page.select("main img, main i"), "an article's text and terms stay text"
    english = page.select("[data-testid=translation-paragraph]")
    for note in page.select(".flag-note"):
        note.decompose()
    assert [p.get_text() for p in english] == ["One. It costs 1.5.", "Nog een zin."]


def test_a_result_without_flags_says_so_and_one_from_before_the_checks_says_nothing(
    app: Flask,
) -> None:
    clean = checked_page(app, Checks.of([], [[[], []], [[]]]))
    count = clean.select_one("[data-testid=flag-count]")
    assert count is not None and "flagged no sentence" in count.get_text()
    assert not clean.select("mark")
    unchecked = checked_page(app, None)
    assert unchecked.select_one("[data-testid=flag-count]") is None and not unchecked.select("mark")
