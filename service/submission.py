"""From a request to a job: read and validate the article, answer from the cache, join an
identical job that is already active, or queue a new one. Used by the API and the web pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from flask import Request
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from service.context import Services
from service.errors import ServiceUnavailable
from service.schemas import JobForm, JobRequest
from workers.cache import article_key, dedupe_key, published_signature
from workers.celery_app import QUEUE, TASK_NAME
from workers.connections import RedisUnavailable
from workers.errors import ArticleTooLargeError
from workers.job_record import JobOptions, JobRecord, JobStatus
from workers.pipeline.article import RawDocument, Result
from workers.pipeline.reading import read_bytes, read_text
from workers.pipeline.run import prepare_article


@dataclass(frozen=True)
class ArticleRequest:
    document: RawDocument
    options: JobOptions
    filename: str | None


@dataclass(frozen=True)
class Submission:
    job: JobRecord
    outcome: Literal["created", "existing", "cached"]


def _safe_name(filename: str | None) -> str | None:
    """Only the base name of what the client called its file, for display."""
    return PurePath(filename.replace("\\", "/")).name[:255] or None if filename else None


def _check_size(text: str, limit: int) -> None:
    size = len(text.encode())
    if size > limit:
        raise ArticleTooLargeError(
            f"the article text is {size:,} bytes; the limit is {limit:,} bytes"
        )


def _read_text_field(text: str, filename: str | None, limit: int) -> RawDocument:
    _check_size(text, limit)
    if filename and PurePath(filename).suffix.lower() != ".txt":
        return read_bytes(text.encode(), filename)
    return read_text(text)


def validated(model: type[BaseModel], data: Any) -> Any:
    """`data` as `model`, or a 400 naming every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise BadRequest(problems) from None


def parse_json(request: Request, limit: int) -> ArticleRequest:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object with at least a 'text' field")
    body: JobRequest = validated(JobRequest, data)
    filename = _safe_name(body.filename)
    return ArticleRequest(
        document=_read_text_field(body.text, filename, limit),
        options=JobOptions(summary=body.summary, check_language=body.check_language),
        filename=filename,
    )


def form_fields(request: Request) -> dict[str, str]:
    """The form's fields, an empty field left out. For a repeated field the last value wins,
    so an HTML form can send a hidden "false" before its checkbox: an unticked box still
    says no."""
    return {name: values[-1] for name, values in request.form.lists() if values and values[-1]}


def parse_form(request: Request, limit: int) -> ArticleRequest:
    """A multipart or urlencoded form: a `file` upload, or a `text` field."""
    form: JobForm = validated(JobForm, form_fields(request))
    options = JobOptions(summary=form.summary, check_language=form.check_language)
    upload: FileStorage | None = request.files.get("file")
    if upload is not None and upload.filename:
        filename = _safe_name(upload.filename)
        document = read_bytes(upload.read(), filename or "upload")
        _check_size(document.text, limit)
        return ArticleRequest(document, options, filename)
    if form.text is None:
        if "text" in request.form:  # sent, but empty: say so in the form's own words
            read_text(request.form["text"])
        raise BadRequest("send the article as a 'file' upload or a 'text' field")
    filename = _safe_name(form.filename)
    return ArticleRequest(_read_text_field(form.text, filename, limit), options, filename)


def parse_request(request: Request, limit: int) -> ArticleRequest:
    if request.is_json:
        return parse_json(request, limit)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return parse_form(request, limit)
    raise UnsupportedMediaType("send application/json or multipart/form-data")


def submit(services: Services, article: ArticleRequest) -> Submission:
    """A job for this article: done at once from the cache, an identical active job, or new."""
    prepare_article(article.document, check_language=article.options.check_language)
    jobs = services.jobs
    cached = _cached_result(services, article)
    if cached is not None:
        job = jobs.create(
            article.document, article.options, filename=article.filename, keep_input=False
        )
        jobs.end(job.id, JobStatus.DONE, result=cached)
        done = jobs.get(job.id)
        assert done is not None
        return Submission(done, "cached")

    key = dedupe_key(article.document, article.options)
    job = jobs.create(article.document, article.options, filename=article.filename, dedupe_key=key)
    existing_id = jobs.claim(key, job.id)
    existing = jobs.get(existing_id) if existing_id else None
    if existing is not None:
        jobs.delete(job.id)
        return Submission(existing, "existing")
    try:
        services.celery.send_task(TASK_NAME, args=[job.id], queue=QUEUE)
    except Exception as error:  # kombu wraps connection failures in several types
        jobs.delete(job.id)
        jobs.release(key, job.id)
        raise ServiceUnavailable(str(error)) from error
    return Submission(job, "created")


def _cached_result(services: Services, article: ArticleRequest) -> Result | None:
    """The cached result, if the workers have said what they produce and it is there."""
    signature = published_signature(services.queue)
    if signature is None:
        return None
    key = article_key(signature, article.document, article.options.summary)
    try:
        return services.results.get(key)
    except RedisUnavailable:
        return None  # the cache is an optimisation: without it the job simply runs
