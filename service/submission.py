"""From a request to a job: read and validate the article, answer from the cache, join an
identical job that is already active, or queue a new one. Used by the API and the web pages.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any, Literal

from flask import Request
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from service.context import Services
from service.errors import QueueFull, ServiceUnavailable
from service.schemas import EMPTY_TEXT, FIELD_RULES, JobForm, JobRequest
from workers.cache import (
    CacheUnavailableError,
    article_key,
    content_digest,
    dedupe_key,
    published_signature,
)
from workers.celery_app import send_job
from workers.errors import EmptyArticleError, UndecodableError
from workers.jobs.record import JobOptions, JobRecord, JobStatus
from workers.operations.keys import ApiKey, KeyStore, Reservation
from workers.operations.logs import job_id_var, request_id_var
from workers.operations.webhooks import CallbackRefusedError, resolve_callback
from workers.pipeline.article import Result, SourceFile
from workers.pipeline.screening import screen_article

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleRequest:
    source: SourceFile
    options: JobOptions
    filename: str | None
    callback_url: str | None = None
    glossary_id: str | None = None  # resolved (and its owner checked) by `submit`


@dataclass(frozen=True)
class Submission:
    job: JobRecord
    outcome: Literal["created", "existing", "cached"]


def _safe_name(filename: str | None) -> str | None:
    """Only the base name of what the client called its file, for display."""
    return PurePath(filename.replace("\\", "/")).name[:255] or None if filename else None


def _text_source(text: str, filename: str | None) -> SourceFile:
    """Text from a field; its size is checked with every other article's, in `submit`."""
    try:
        source = SourceFile.pasted(text, filename)
    except UnicodeEncodeError as error:  # JSON may carry lone UTF-16 surrogates ("\ud800")
        raise BadRequest(
            f"text: holds an unpaired UTF-16 surrogate at character {error.start}; "
            "send valid Unicode"
        ) from None
    if b"\x00" in source.data:
        raise UndecodableError("the text contains NUL characters; it looks like binary data")
    return source


def validated(model: type[BaseModel], data: Any) -> Any:
    """`data` as `model`, or a 400 naming every problem in words."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {problem_in_words(model, e)}"
            for e in error.errors()
        )
        raise BadRequest(problems) from None


def problem_in_words(model: type[BaseModel], error: Mapping[str, Any]) -> str:
    """pydantic's message, except where it would show a regular expression or a type name
    a client never wrote: then the rule the field keeps, in words (schemas.FIELD_RULES)."""
    kind, field = error["type"], str(error["loc"][-1]) if error["loc"] else ""
    if kind == "string_pattern_mismatch":
        return FIELD_RULES.get(field, "is not in the form this field takes")
    if kind == "extra_forbidden":
        return f"is not a field of this request (it takes {', '.join(model.model_fields)})"
    if kind == "missing":
        return "is required"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind == "string_type":
        return "must be a string"
    return str(error["msg"]).removeprefix("Value error, ")


def parse_json(request: Request) -> ArticleRequest:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object with at least a 'text' field")
    body: JobRequest = validated(JobRequest, data)
    filename = _safe_name(body.filename)
    html = body.format == "html"
    return ArticleRequest(
        source=_text_source(body.text, filename or ("page.html" if html else None)),
        options=JobOptions(summary=body.summary, check_language=body.check_language, markup=html),
        filename=filename,
        callback_url=body.callback_url,
        glossary_id=body.glossary_id,
    )


def form_fields(request: Request) -> dict[str, str]:
    """The form's fields, an empty field left out. For a repeated field the last value wins,
    so an HTML form can send a hidden "false" before its checkbox: an unticked box still
    says no."""
    return {name: values[-1] for name, values in request.form.lists() if values and values[-1]}


def parse_form(request: Request) -> ArticleRequest:
    """A multipart or urlencoded form: a `file` upload, or a `text` field."""
    form: JobForm = validated(JobForm, form_fields(request))
    options = JobOptions(
        summary=form.summary, check_language=form.check_language, markup=form.format == "html"
    )
    upload: FileStorage | None = request.files.get("file")
    if upload is not None and upload.filename:
        filename = _safe_name(upload.filename)
        source = SourceFile(filename or "upload", upload.read())
        return ArticleRequest(source, options, filename, form.callback_url, form.glossary_id)
    if form.text is None:
        if "text" in request.form:  # sent, but empty: as empty as any other empty article
            raise EmptyArticleError(EMPTY_TEXT)
        raise BadRequest("send the article as a 'file' upload or a 'text' field")
    filename = _safe_name(form.filename)
    html = form.format == "html"
    source = _text_source(form.text, filename or ("page.html" if html else None))
    return ArticleRequest(source, options, filename, form.callback_url, form.glossary_id)


def parse_request(request: Request) -> ArticleRequest:
    if request.is_json:
        return parse_json(request)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return parse_form(request)
    raise UnsupportedMediaType("send application/json or multipart/form-data")


def submit(
    services: Services,
    article: ArticleRequest,
    *,
    owner: str,
    key: ApiKey | None = None,
    unique: bool = False,
) -> Submission:
    """A job for this article: done at once from the cache, an identical active job of the
    same owner, or new. Only bounded, linear checks run here; the worker reads, cleans and
    splits the article. With a key, the article's size is reserved against its quota first
    (QuotaExceededError when it does not fit) and settled when the job ends."""
    size = screen_article(
        article.source,
        check_language=article.options.check_language,
        max_chars=services.settings.max_article_chars,
    )
    if article.callback_url:
        _check_callback(services, article.callback_url, key)
    _refuse_when_full(services)
    reservation = None
    if key is not None:
        reservation = KeyStore(services.queue).reserve(key, size)
    try:
        submission = _queue(services, article, owner, key, reservation, unique)
    except BaseException:
        _release(services, reservation)
        raise
    if submission.outcome == "existing":
        _release(services, reservation)  # the job it joined holds its own
    return _counted(services, submission)


def _release(services: Services, reservation: Reservation | None) -> None:
    if reservation is not None:
        KeyStore(services.queue).release(reservation)


def _queue(
    services: Services,
    article: ArticleRequest,
    owner: str,
    key: ApiKey | None,
    reservation: Reservation | None,
    unique: bool,
) -> Submission:
    jobs = services.jobs
    if article.glossary_id:  # the version to enforce: pinned now, by its digest
        glossary = services.glossaries.usable(article.glossary_id, owner)
        article = replace(article, options=replace(article.options, glossary=glossary.digest))
    recorded: dict[str, Any] = {
        "api_key": key.id if key else None,
        "owner": owner,
        "callback_url": article.callback_url,
        "reserved": reservation.chars if reservation else 0,
        "reserved_month": reservation.month if reservation else None,
        "request_id": request_id_var.get(),
    }
    content = content_digest(article.source)
    cached_key = (
        _cached_result_key(services, article, content)
        if article.options.kind == "article"
        else None
    )
    if cached_key is not None:
        job = jobs.create(
            article.source, article.options, filename=article.filename, keep_input=False,
            **recorded,
        )  # fmt: skip
        result = _cached(services, cached_key)
        if result is not None and jobs.end(
            job.id, JobStatus.DONE, result=result, result_key=cached_key
        ):
            done = jobs.get(job.id)
            assert done is not None
            return Submission(done, "cached")
        jobs.delete(job.id)  # evicted between the two reads: translate it after all

    # One job per identical article and options, owner and callback: each owner sees (and
    # is charged for) its own jobs, and each callback hears of its own. A job of its own,
    # never joined (a DeepL document has its own key), gets a key no other job can have.
    joinable = {"owner": owner, "callback_url": article.callback_url}
    if unique:
        joinable["unique"] = uuid.uuid4().hex
    dedupe = dedupe_key(content, article.options, joinable)
    # Recorded first, but invisible to workers until it has won its dedupe claim: a duplicate
    # that loses is deleted before any worker could take it.
    job = jobs.create(
        article.source, article.options, filename=article.filename, dedupe_key=dedupe,
        check_after=None, **recorded,
    )  # fmt: skip
    existing_id = jobs.claim(dedupe, job.id)
    existing = jobs.get(existing_id, with_result=False) if existing_id else None
    if existing is not None:
        jobs.delete(job.id)
        return Submission(existing, "existing")
    try:
        assert job.delivery is not None
        jobs.enqueue(job.id, services.settings.lease_seconds)
        send_job(services.celery, job.id, job.delivery)
    except Exception as error:  # kombu wraps connection failures in several types
        jobs.delete(job.id)
        jobs.release(dedupe, job.id)
        raise ServiceUnavailable(str(error)) from error
    return Submission(job, "created")


def _counted(services: Services, submission: Submission) -> Submission:
    job_id_var.set(submission.job.id)
    log.info("job %s: %s", submission.job.id, submission.outcome)
    services.metrics.count("vertaal_jobs_submitted", outcome=submission.outcome)
    return submission


def _check_callback(services: Services, url: str, key: ApiKey | None) -> None:
    """A callback must reach a public address (or an allowed one), and be signable."""
    if key is None and not services.settings.webhook_secret:
        raise CallbackRefusedError(
            "a callback_url needs an API key (whose webhook secret signs the callback) or "
            "VERTAAL_WEBHOOK_SECRET on the server"
        )
    resolve_callback(url, services.settings.webhook_allow)


def _refuse_when_full(services: Services) -> None:
    """503 queue_full before the queue's Redis runs out of memory: the room that is left
    belongs to the jobs already accepted (their progress, results and ends)."""
    used, limit = services.queue_memory()
    if limit and used >= services.settings.queue_high_water * limit:
        raise QueueFull(
            f"the job queue is full ({used:,} of {limit:,} bytes in use); try again later"
        )


def _cached(services: Services, key: str) -> Result | None:
    try:
        return services.results.get(key)
    except CacheUnavailableError:
        return None


def _cached_result_key(services: Services, article: ArticleRequest, content: str) -> str | None:
    """Where the cache holds this article's result, if the workers have said what they
    produce and it is there."""
    signature = published_signature(services.queue)
    if signature is None:
        return None
    key = article_key(signature, content, article.options)
    try:
        found = services.results.has(key)
    except CacheUnavailableError:
        return None  # the cache is an optimisation: without it the job simply runs
    services.metrics.count(
        "vertaal_cache_lookups", level="article", result="hit" if found else "miss"
    )
    return key if found else None
