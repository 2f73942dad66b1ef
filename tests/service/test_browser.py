"""The web pages in a real headless Chromium, against a live server and worker (tiny models).

Debian's `chromium` is driven by Playwright through `executable_path`, because Playwright
cannot download its own browsers here. `make install` installs chromium when it is missing.
"""

import contextlib
import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from service.web import CHECK_WORDS
from tests.conftest import ARTICLES
from tests.processes import ROOT, Worker, live_server
from tests.service.test_api import unique_article
from tests.service.test_web import ENGLISH
from workers.pipeline.checks.sentence import Check

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium; `make install` "
    "does this when it runs as root)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def site(app: Flask, live_worker: Worker) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture
def page(browser: Browser, site: str) -> Iterator[Page]:
    """A fresh browser tab; it fails the test on any script error or dialog."""
    context = browser.new_context(base_url=site, viewport={"width": 1100, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    yield tab
    context.close()
    assert not problems, problems


def submit_text(page: Page, text: str) -> str:
    page.goto("/")
    page.fill("#text", text)
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    return page.url.rsplit("/", 1)[-1]


def api_job(page: Page, site: str, job_id: str) -> dict[str, Any]:
    """The job as the API shows it to this browser (its session's cookie: the job is its)."""
    answer: dict[str, Any] = page.request.get(f"{site}/api/v1/jobs/{job_id}").json()
    return answer


def test_pasted_article_shows_live_progress_then_the_result(page: Page, site: str) -> None:
    text = (ARTICLES / "nato-russia-council-dialogue.txt").read_text()
    job_id = submit_text(page, text + "\n\n" + unique_article(240, seed=50))
    bar = page.get_by_role("progressbar")
    expect(bar).to_be_visible()
    seen: set[int] = set()
    deadline = time.monotonic() + 90
    while not page.get_by_test_id("summary").is_visible():
        if bar.count():
            seen.add(int(bar.get_attribute("aria-valuenow") or 0))
        assert time.monotonic() < deadline, "the job did not finish"
        page.wait_for_timeout(100)
    assert len(seen - {0}) >= 1, f"progress moved while the page stayed: {sorted(seen)}"
    assert page.url.endswith(f"/jobs/{job_id}"), "no reload, no navigation"

    result = api_job(page, site, job_id)["result"]
    expect(page.get_by_test_id("translation-paragraph")).to_have_count(
        len(result["source"]["paragraphs"])
    )
    expect(page.get_by_test_id("date")).to_have_text("2022-01")
    expect(page.get_by_test_id("summary")).to_contain_text(result["summary"][:20])


def test_uploaded_file(page: Page, site: str) -> None:
    page.goto("/")
    page.set_input_files("#file", str(ARTICLES / "blinken-stoltenberg-written-reply.txt"))
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    expect(page.get_by_test_id("summary")).to_be_visible(timeout=90_000)
    expect(page.get_by_test_id("title")).not_to_be_empty()
    expect(page.locator(".original-title")).to_contain_text("Amerikaanse minister Blinken")
    expect(page.get_by_test_id("removed")).to_contain_text("Removed by the cleaner")


def test_dutch_english_toggle_copy_and_downloads(page: Page, site: str) -> None:
    job_id = submit_text(page, (ARTICLES / "sherman-brussels-talks.txt").read_text())
    expect(page.get_by_test_id("summary")).to_be_visible(timeout=90_000)
    english = page.get_by_test_id("translation-paragraph")
    dutch = page.get_by_test_id("source-paragraph")
    expect(dutch.first).to_be_hidden()
    page.get_by_test_id("toggle-dutch").check()
    expect(dutch).to_have_count(english.count())
    expect(dutch.first).to_be_visible()
    expect(dutch.first).to_contain_text("Wendy Sherman")
    first_dutch, first_english = dutch.first.bounding_box(), english.first.bounding_box()
    assert first_dutch and first_english and first_dutch["x"] > first_english["x"], "side by side"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "job-page.png"))  # the top: title, tools, summary

    page.get_by_test_id("copy").click()
    expect(page.locator("#copy-status")).to_have_text("Copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    result = api_job(page, site, job_id)["result"]
    assert copied.split("\n\n")[1:] == [" ".join(p) for p in result["translation"]["paragraphs"]]

    with page.expect_download() as markdown:
        page.get_by_test_id("download-md").click()
    assert markdown.value.suggested_filename.endswith(".en.md")
    with page.expect_download() as data:
        page.get_by_test_id("download-json").click()
    saved = json.loads(Path(data.value.path()).read_text())
    assert saved == api_job(page, site, job_id)["result"]


def test_a_flagged_sentence_is_marked_and_its_reason_reachable_by_keyboard(
    page: Page, site: str
) -> None:
    """Random models' English is gibberish: the checks flag it, which is what is shown here."""
    job_id = submit_text(page, unique_article(6, seed=54))
    count = page.get_by_test_id("flag-count")
    expect(count).to_be_visible(timeout=90_000)
    flagged = page.request.get(f"{site}/api/v1/jobs/{job_id}?view=flagged").json()["flagged"]
    assert flagged, "the tiny models' translation raises flags"
    expect(count).to_contain_text(f"{len(flagged)} sentence")
    marks = page.get_by_test_id("flagged-sentence")
    expect(marks).to_have_count(len(flagged))
    first = marks.first
    expect(first).to_have_text(flagged[0]["translation"])
    note = page.locator("#" + (first.get_attribute("aria-describedby") or "none"))
    expect(note).to_be_hidden()
    reason = f"{CHECK_WORDS[Check(flagged[0]['checks'][0]['code'])]}: "
    reason += flagged[0]["checks"][0]["message"]
    expect(first).to_have_accessible_description(re.compile(re.escape(reason)))

    for _ in range(30):  # Tab through the page, as a keyboard user does, to the first one
        page.keyboard.press("Tab")
        if first.evaluate("e => e === document.activeElement"):
            break
    expect(first).to_be_focused()
    expect(note).to_be_visible()
    expect(note).to_contain_text(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "flagged-sentence.png"))
    page.keyboard.press("Escape")
    expect(note).to_be_hidden()
    page.keyboard.press("Shift+Tab")
    page.mouse.move(0, 0)
    expect(note).to_be_hidden()
    first.hover()
    expect(note).to_be_visible()


def test_script_injected_through_an_article_runs_nothing(page: Page, site: str) -> None:
    payload = (
        '<img src=x onerror="window.__xss=1"> Nieuws over de NAVO\n\n'
        "De minister zei dinsdag <script>window.__xss=2</script> dat er overleg komt.\n\n"
        'Volgens de oppositie is dat <img src=x onerror="window.__xss=3"> niet genoeg, '
        "en zij wil dat het parlement <b>vet</b> meer zeggenschap krijgt over de plannen."
    )
    submit_text(page, payload)
    expect(page.get_by_test_id("summary")).to_be_visible(timeout=90_000)
    page.get_by_test_id("toggle-dutch").check()
    sources = page.get_by_test_id("source-paragraph")
    expect(sources.first).to_contain_text("<script>window.__xss=2</script>")
    expect(page.locator(".original-title")).to_contain_text('<img src=x onerror="window.__xss=1">')
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main img, main script, main b").count() == 0

    page.goto("/")  # the refused-form path echoes the text back, escaped as well
    page.fill("#text", "<script>window.__xss=4</script> " + ENGLISH)
    page.click("button[type=submit]")
    expect(page.get_by_test_id("form-error")).to_contain_text("looks like English")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.input_value("#text").startswith("<script>window.__xss=4</script>")


def test_empty_submission_shows_an_inline_error(page: Page) -> None:
    page.goto("/")
    page.click("button[type=submit]")
    error = page.get_by_test_id("form-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Paste an article or choose a file first")
    assert page.url.endswith("/")
    expect(page.locator("#article-form")).to_be_visible()


def test_counter_cancel_and_recent_jobs(page: Page, site: str) -> None:
    page.goto("/")
    page.fill("#text", "Één zin.")
    expect(page.get_by_test_id("char-count")).to_have_text("8")
    expect(page.locator("#counter")).to_contain_text("8 of 1,000,000 characters")

    job_id = submit_text(page, unique_article(600, seed=51))
    expect(page.get_by_test_id("progress-text")).to_contain_text("sentences", timeout=60_000)
    page.get_by_test_id("cancel").click()
    expect(page.get_by_test_id("job-cancelled")).to_be_visible()
    assert api_job(page, site, job_id)["status"] == "cancelled"

    page.goto("/")
    recent = page.get_by_test_id("recent-jobs").locator("a")
    expect(recent.first).to_have_attribute("href", f"/jobs/{job_id}")
    expect(page.get_by_test_id("recent-jobs")).to_contain_text("cancelled")


def test_unticking_the_summary_box_gives_no_summary(page: Page, site: str) -> None:
    page.goto("/")
    page.fill("#text", unique_article(6, seed=52))
    page.uncheck("input[type=checkbox][name=summary]")
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    expect(page.get_by_test_id("translation-paragraph").first).to_be_visible(timeout=90_000)
    expect(page.get_by_test_id("summary")).to_have_count(0)
    assert api_job(page, site, page.url.rsplit("/", 1)[-1])["result"]["summary"] is None


def test_a_glossary_made_on_its_page_is_picked_and_its_terms_checked(page: Page, site: str) -> None:
    page.goto("/glossaries")
    page.fill("#glossary-name", "Desk")
    page.fill("#glossary-entries", "Tweede Kamer\tHouse of Representatives\n")
    page.click("#glossary-form button[type=submit]")
    expect(page.get_by_test_id("glossary-entries")).to_contain_text("House of Representatives")
    page.goto("/")
    page.select_option("#glossary", label="Desk (1 entry)")
    page.fill("#text", unique_article(3, seed=53) + "\n\nDe Tweede Kamer stemde dinsdag in.")
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")
    expect(page.get_by_test_id("translation-paragraph").first).to_be_visible(timeout=90_000)
    checks = api_job(page, site, page.url.rsplit("/", 1)[-1])["result"]["checks"]
    messages = [f["message"] for p in checks["paragraphs"] for s in p for f in s]
    assert "expected the term House of Representatives" in messages


def test_api_reference_renders_from_this_app_alone(browser: Browser, site: str) -> None:
    """Swagger UI at /api/v1/docs: no request leaves the app's origin, no CSP violation."""
    context = browser.new_context(base_url=site)
    tab = context.new_page()
    requests: list[str] = []
    problems: list[str] = []
    tab.on("request", lambda request: requests.append(request.url))
    tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    tab.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    tab.goto("/")
    tab.get_by_test_id("api-docs-link").click()
    tab.wait_for_url("**/api/v1/docs")
    expect(tab.locator(".opblock-summary-path").first).to_be_visible(timeout=30_000)
    expect(tab.locator("#swagger-ui")).to_contain_text("/api/v1/jobs/{job_id}")
    expect(tab.locator("#swagger-ui")).to_contain_text("Submit an article")
    context.close()
    foreign = [url for url in requests if not url.startswith(site) and not url.startswith("data:")]
    assert not foreign, f"requests to other origins: {foreign}"
    assert not problems, problems


DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def shoot(page: Page, name: str) -> None:
    """A screenshot attached to the test run (test-artifacts/ is not in git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"first-ten-minutes-{name}.png"))


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_first_ten_minutes(browser: Browser, site: str, tmp_path: Path) -> None:
    """Open the page, upload a file, watch the stages, read the result, open the docs: at
    desktop and phone widths, with screenshots of each step."""
    context = browser.new_context(base_url=site, viewport=DESKTOP)
    page = context.new_page()
    problems: list[str] = []
    foreign: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "request", lambda r: None if r.url.startswith((site, "data:")) else foreign.append(r.url)
    )

    page.goto("/")
    expect(page.locator("#counter")).to_have_text("0 of 1,000,000 characters")
    expect(page.get_by_text("Files up to 10 MB")).to_be_visible()
    shoot(page, "1-form-desktop")

    article = tmp_path / "dijken.txt"
    text = (ARTICLES / "nato-russia-council-dialogue.txt").read_text()
    article.write_text(text + "\n\n" + unique_article(120, seed=53))
    page.set_input_files("#file", str(article))
    page.click("button[type=submit]")
    page.wait_for_url("**/jobs/*")

    seen: list[tuple[str, str]] = []
    deadline = time.monotonic() + 120
    while not page.get_by_test_id("summary").is_visible():
        heading, line = page.locator("#job-heading"), page.get_by_test_id("progress-text")
        if heading.count() and line.count():
            with contextlib.suppress(PlaywrightError):  # the panel may be swapped meanwhile
                state = (heading.inner_text(timeout=500), line.inner_text(timeout=500))
                if state not in seen:
                    seen.append(state)
                    if state[0].startswith("Translating"):
                        shoot(page, "2-progress-desktop")
        assert time.monotonic() < deadline, f"the job did not finish; seen: {seen}"
        page.wait_for_timeout(100)
    headings = [heading for heading, _ in seen]
    assert "Translating dijken.txt…" in headings, seen
    assert set(headings) <= {
        f"{verb} dijken.txt…"
        for verb in ("Waiting to translate", "Starting on", "Reading", "Translating", "Summarizing")
    }, seen
    assert all(re.fullmatch(r"[\d,]+ of [\d,]+ sentences translated", line)
               for heading, line in seen if heading.startswith("Translating")), seen  # fmt: skip
    assert not [line for _, line in seen if "0 of 0" in line or "Loading" in line], seen

    footer = page.locator(".models")
    expect(footer).to_contain_text("Translated by marian@local-")
    assert "/" not in footer.inner_text().removesuffix("."), "models named without a path"
    shoot(page, "3-result-desktop")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page), "the result fits a phone"
    shoot(page, "3-result-phone")

    page.goto("/")
    assert fits_the_width(page), "the form fits a phone"
    shoot(page, "1-form-phone")
    page.get_by_test_id("api-docs-link").click()
    page.wait_for_url("**/api/v1/docs")
    expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=30_000)
    brand = page.locator("header.site .brand")
    expect(brand).to_have_text("Vertaal")
    assert brand.evaluate("e => getComputedStyle(e).color") == "rgb(31, 78, 121)", "site style"
    shoot(page, "4-docs-phone")
    page.set_viewport_size(DESKTOP)
    shoot(page, "4-docs-desktop")
    brand.click()
    page.wait_for_url(f"{site}/")
    context.close()
    assert not problems, problems
    assert not foreign, f"requests to other origins: {foreign}"
