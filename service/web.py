"""The HTML pages: paste or upload an article, watch its job, read and download the result.

Pages are rendered by Jinja (which escapes everything from an article) and enhanced by one
static script that polls the job API; the job panel is rendered only here, on the server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import NoReturn

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service import glossary_pages
from service.api import job_answer
from service.auth import current_key, sign_in, sign_out, signed_in
from service.context import services
from service.downloads import attachment
from service.errors import ServiceUnavailable, error_response
from service.ownership import may_read, new_owner, owns
from service.schemas import JobForm
from service.submission import form_fields, parse_form, submit
from workers.connections import RedisUnavailable
from workers.errors import EmptyArticleError, NotDutchError, VertaalError
from workers.jobs.record import JobRecord, JobStatus, View
from workers.pipeline.article import NO_SUMMARY, Result
from workers.pipeline.checks.sentence import Check
from workers.pipeline.reading import FORMATS

bp = Blueprint("web", __name__)

# The form's own words for the errors whose general message speaks of the API or the CLI.
NOTHING_TO_TRANSLATE = (
    "Paste an article or choose a file first: there is no article text to translate."
)
NOT_DUTCH = (
    "This text looks like {looks_like}, not Dutch. If it is Dutch, or you want it translated "
    "anyway, tick “Skip the language check” below and press Translate again."
)
UNAVAILABLE = (
    "Vertaal is not available right now (its job queue does not answer). Your text is kept "
    "below; please try again in a minute."
)

# What a job page says at each stage a job reports (named in workers/pipeline/run.py and by
# the job store): a heading (`{name}`: the file, or "the article") and a line (`{done}` of
# `{total}`). The page's script gets them from the page, so the words are written once.
STAGE_WORDS = {
    "queued": ("Waiting to translate {name}…", "Waiting in the queue for a worker."),
    "requeued": (
        "Waiting to translate {name}…",
        "Its worker stopped; waiting for another to start it again.",
    ),
    "starting": (
        "Starting on {name}…",
        "A worker took it (its first article also loads the models, which takes a while).",
    ),
    "read": ("Reading {name}…", "Reading, cleaning and splitting the text into sentences."),
    "translate": ("Translating {name}…", "{done} of {total} sentences translated"),
    "summarize": ("Summarizing {name}…", "Writing the summary: step {done} of {total}"),
}


# What a flagged sentence's note says first, in a reader's words (who may read no Dutch); the
# flag's own message follows, with what was expected. One per check (a test holds them together).
CHECK_WORDS = {
    Check.EMPTY: "Nothing translated",
    Check.SAME_AS_SOURCE: "Left in Dutch",
    Check.UNTRANSLATED: "Not translated",
    Check.NUMBER_MISSING: "A number may be wrong",
    Check.URL_CHANGED: "Web address changed",
    Check.EMAIL_CHANGED: "E-mail address changed",
    Check.HASHTAG_CHANGED: "Hashtag changed",
    Check.HANDLE_CHANGED: "Handle changed",
    Check.TERM_MISSING: "Name or term missing",
    Check.LENGTH_RATIO: "Something may be missing or added",
    Check.REPETITION: "Stuck in a loop",
}


@dataclass
class FormState:
    """What the form shows: the user's own input back, and an error in plain words, once."""

    text: str = ""
    summary: bool = True
    keep_html: bool = False
    error: str | None = None
    offer_language_override: bool = False
    limit: int = 0
    upload_limit: int = 0
    glossary_id: str = ""


def _render_form(state: FormState, status: int = 200) -> ResponseReturnValue:
    state.limit = services().settings.max_article_chars
    state.upload_limit = services().settings.max_upload_bytes
    try:
        glossaries, key = glossary_pages.usable_glossaries(), signed_in()
    except RedisUnavailable:  # the form still shows, with the user's text (UNAVAILABLE)
        glossaries, key = [], None
    page = render_template(
        "index.html", form=state, formats=FORMATS, glossaries=glossaries,
        needs_key=services().settings.require_api_key, signed_in=key,
    )  # fmt: skip
    return page, status


def _as_sentence(message: str) -> str:
    """A core message (`the text is …`) as a sentence on the page; a file name stays as is."""
    first = message.split(" ", 1)[0]
    start = message[:1] if "." in first else message[:1].upper()
    return start + message[1:] + ("" if message.endswith(".") else ".")


def _in_page_words(error: VertaalError, uploaded: bool) -> str:
    if isinstance(error, NotDutchError) and error.looks_like:
        return NOT_DUTCH.format(looks_like=error.looks_like)
    if isinstance(error, EmptyArticleError) and not uploaded:
        return NOTHING_TO_TRANSLATE
    return _as_sentence(str(error))


@bp.app_template_global()
def stage_words(job: JobRecord) -> dict[str, tuple[str, str]]:
    """STAGE_WORDS for one job's page: its headings name its file."""
    name = job.filename or "the article"
    return {stage: (head.format(name=name), line) for stage, (head, line) in STAGE_WORDS.items()}


@bp.app_template_global()
def progress_words(job: JobRecord) -> tuple[str, str]:
    """The job page's heading and progress line for where `job` is now."""
    words = stage_words(job)
    heading, line = words.get(job.progress.stage, (words["translate"][0], job.progress.stage))
    return heading, line.format(done=f"{job.progress.done:,}", total=f"{job.progress.total:,}")


@bp.app_template_global()
def check_words(code: Check) -> str:
    """A flag's heading on the job page (CHECK_WORDS)."""
    return CHECK_WORDS[code]


@bp.get("/")
def index() -> ResponseReturnValue:
    return _render_form(FormState())


def _state_from_request() -> FormState:
    """The user's input, to show again; a summary flag that does not parse counts as on."""
    flag = form_fields(request).get("summary", "true")
    try:
        summary = JobForm.model_validate({"summary": flag}).summary
    except ValidationError:
        summary = True
    keep_html = form_fields(request).get("format") == "html"
    return FormState(
        text=request.form.get("text", ""), summary=summary, keep_html=keep_html,
        glossary_id=request.form.get("glossary_id", ""),
    )  # fmt: skip


@bp.errorhandler(CSRFError)
def expired_form(error: CSRFError) -> ResponseReturnValue:
    """A form without a valid token: shown again with the user's text, not thrown away."""
    message = "The form had expired or did not come from this page. Please send it again."
    if request.endpoint != "web.submit_form":
        return error_response(400, "csrf", message)
    state = _state_from_request()
    state.error = message
    return _render_form(state, 400)


@bp.errorhandler(RequestEntityTooLarge)
def too_large_form(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A form too large to read (found while checking its CSRF token): the form again, with
    the limit in its own unit; what was sent cannot be shown back."""
    megabytes = services().settings.max_upload_bytes / 1_000_000
    message = f"That is more than the {megabytes:g} MB a file (or the form) may hold."
    if request.endpoint != "web.submit_form":
        return error_response(413, "request_entity_too_large", message)
    return _render_form(FormState(error=message), 413)


@bp.post("/sign-in")
def sign_in_form() -> ResponseReturnValue:
    """Where API keys are required, a browser signs in with one: its session then acts as
    the key (its jobs, quota and glossaries), on these pages only."""
    if sign_in(request.form.get("api_key", "")) is None:
        return _render_form(FormState(error="That API key is not valid, or it was revoked."), 401)
    return redirect(url_for("web.index"), 303)


@bp.post("/sign-out")
def sign_out_form() -> ResponseReturnValue:
    sign_out()
    return redirect(url_for("web.index"), 303)


@bp.post("/")
def submit_form() -> ResponseReturnValue:
    state = _state_from_request()
    try:
        if services().settings.require_api_key and current_key() is None:
            state.error = "This service needs an API key: sign in with yours first (above)."
            return _render_form(state, 401)
        article = parse_form(request)
        job = submit(services(), article, owner=new_owner().owner, key=current_key()).job
    except VertaalError as error:
        state.error = _in_page_words(error, uploaded=bool(request.files.get("file")))
        state.offer_language_override = isinstance(error, NotDutchError)
        return _render_form(state, error.http_status)
    except (ServiceUnavailable, *RedisUnavailable):
        state.error = UNAVAILABLE
        return _render_form(state, 503)
    except HTTPException as error:
        state.error = _as_sentence(error.description or error.name)
        return _render_form(state, error.code or 400)
    return redirect(url_for("web.job_page", job_id=job.id), 303)


def _not_found(job_id: str) -> NoReturn:
    abort(404, f"There is no job {job_id}: the link is wrong, the job has expired, or it was "
               "sent from another browser.")  # fmt: skip


def _job_or_404(job_id: str) -> JobRecord:
    jobs = services().jobs
    job = jobs.get(job_id) if may_read(job_id, jobs.owner(job_id)) else None
    if job is None:
        _not_found(job_id)
    if job.result_gone:
        abort(410, "This job finished, but its result has since been dropped from the cache. "
                   "Translate the article again.")  # fmt: skip
    return job


@bp.get("/jobs/<job_id>")
def job_page(job_id: str) -> ResponseReturnValue:
    return render_template("job.html", job=_job_or_404(job_id), no_summary=NO_SUMMARY)


@bp.get("/jobs/<job_id>/status.json")
def job_status(job_id: str) -> ResponseReturnValue:
    """What the job page polls: the job as the API shows it (with its ETag), to the browser
    that sent it (its session holds the job's capability)."""
    link = url_for("web.job_status", job_id=job_id)
    status = services().jobs.status(job_id)
    # Light while the job runs (polled every second); whole once, when it has ended.
    view: View = "status" if status is None or not status.finished else "full"
    answer = job_answer(job_id, link, view)
    if answer is None:
        _not_found(job_id)
    return answer


@bp.get("/jobs/<job_id>/panel")
def job_panel(job_id: str) -> ResponseReturnValue:
    """The status-dependent part of the job page, fetched by the page when the job ends."""
    return render_template("_job.html", job=_job_or_404(job_id), no_summary=NO_SUMMARY)


@bp.post("/jobs/<job_id>/cancel")
def cancel(job_id: str) -> ResponseReturnValue:
    if not owns(services().jobs.owner(job_id)):
        _not_found(job_id)
    services().jobs.end(job_id, JobStatus.CANCELLED)
    return redirect(url_for("web.job_page", job_id=job_id), 303)


def _stem(job: JobRecord) -> str:
    """The downloads' name: the uploaded file's, as the CLI names its outputs, or the job's."""
    return PurePath(job.filename).stem if job.filename else f"vertaal-{job.id[:8]}"


def _download(job: JobRecord, body: str, suffix: str, mimetype: str) -> Response:
    return attachment(body.encode(), f"{mimetype}; charset=utf-8", _stem(job) + suffix)


def _result_or_404(job_id: str) -> tuple[JobRecord, Result]:
    job = _job_or_404(job_id)
    if job.result is None:
        abort(404, "This job has no result (yet).")
    return job, job.result


@bp.get("/jobs/<job_id>/translation.md")
def download_markdown(job_id: str) -> Response:
    job, result = _result_or_404(job_id)
    return _download(job, result.to_markdown(_stem(job)), ".en.md", "text/markdown")


@bp.get("/jobs/<job_id>/translation.html")
def download_page(job_id: str) -> Response:
    """The page translated with its markup (asked for with `format=html`), as an attachment:
    never shown as a page of this site."""
    job, result = _result_or_404(job_id)
    if result.markup is None:
        abort(404, "This job kept no HTML: submit an .html page with its markup kept.")
    return _download(job, result.markup, ".en.html", "text/html")


@bp.get("/jobs/<job_id>/result.json")
def download_json(job_id: str) -> Response:
    job, result = _result_or_404(job_id)
    body = json.dumps(result.to_dict(), ensure_ascii=False, indent=2)
    return _download(job, body, ".json", "application/json")


# The glossaries page (service/glossary_pages.py): under this blueprint's CSRF checks.
bp.add_url_rule("/glossaries", view_func=glossary_pages.glossaries_page, methods=["GET"])
bp.add_url_rule("/glossaries", view_func=glossary_pages.create_glossary, methods=["POST"])
bp.add_url_rule("/glossaries/<glossary_id>", view_func=glossary_pages.glossary_page)
bp.add_url_rule(
    "/glossaries/<glossary_id>/delete", view_func=glossary_pages.delete_glossary, methods=["POST"]
)
