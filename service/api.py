"""The JSON job API under /api/v1: submit, poll, cancel, health, readiness, OpenAPI, docs."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.context import services
from service.errors import error_response
from service.openapi import documented, openapi_document, responses
from service.schemas import Health, JobForm, JobRequest, Ready
from service.submission import parse_request, submit
from workers.cache import published_signature
from workers.connections import RedisUnavailable
from workers.engines.signature import model_digests
from workers.job_record import JobRecord, JobStatus, JobView

bp = Blueprint("api", __name__)

WORKER_PING_TIMEOUT = 1.0


def job_json(job: JobRecord) -> Response:
    return jsonify(job.view(url_for("api.get_job", job_id=job.id)).to_json())


def _unknown(job_id: str) -> ResponseReturnValue:
    return error_response(
        404, "not_found", f"no job {job_id!r}: the id is wrong or the job has expired"
    )


@bp.post("/jobs")
@documented(
    json=JobRequest,
    form=JobForm,
    resp=responses(
        {
            200: (JobView, "Answered from the cache: the job is done."),
            202: (JobView, "Queued, or joined an identical active job."),
        },
        (400, 413, 415, 422, 503),
    ),
    tags=["jobs"],
)
def create_job() -> ResponseReturnValue:
    """Submit an article

    JSON with the text, or a form with a file upload (or a `text` field). A cached result
    answers at once (200); otherwise the job is queued (202), or an identical active job is
    returned instead of a second one.
    """
    s = services()
    submission = submit(s, parse_request(request, s.settings.max_text_bytes))
    response = job_json(submission.job)
    response.headers["Location"] = url_for("api.get_job", job_id=submission.job.id)
    # 200: answered from the cache, already done. 202: queued (or joined an identical job).
    return response, 200 if submission.outcome == "cached" else 202


@bp.get("/jobs/<job_id>")
@documented(resp=responses({200: (JobView, "The job.")}, (404, 503)), tags=["jobs"])
def get_job(job_id: str) -> ResponseReturnValue:
    """A job's status, progress and, when done, its result"""
    job = services().jobs.get(job_id)
    if job is None:
        return _unknown(job_id)
    return job_json(job), 200


@bp.delete("/jobs/<job_id>")
@documented(resp=responses({200: (JobView, "Cancelled.")}, (404, 409, 503)), tags=["jobs"])
def cancel_job(job_id: str) -> ResponseReturnValue:
    """Cancel a queued or running job

    A queued job never runs; a running one stops at its next batch.
    """
    jobs = services().jobs
    if jobs.get(job_id) is None:
        return _unknown(job_id)
    cancelled = jobs.end(job_id, JobStatus.CANCELLED)
    job = jobs.get(job_id)
    if job is None:
        return _unknown(job_id)
    if not cancelled:
        return error_response(409, "not_active", f"job {job_id} is already {job.status}")
    return job_json(job), 200


@bp.get("/health")
@documented(resp=responses({200: (Health, "Up.")}, ()), tags=["service"])
def health() -> ResponseReturnValue:
    """The web process is up

    Checks nothing else.
    """
    return jsonify(Health().model_dump()), 200


@bp.get("/ready")
@documented(resp=responses({200: (Ready, "Ready.")}, (503,)), tags=["service"])
def ready() -> ResponseReturnValue:
    """Redis answers and a worker is alive"""
    s = services()
    try:
        s.queue.ping()
    except RedisUnavailable:
        return error_response(503, "redis_unavailable", "Redis (the job queue) is not answering")
    replies = s.celery.control.ping(timeout=WORKER_PING_TIMEOUT)
    if not replies:
        return error_response(
            503, "no_workers", "no worker answered; start one with `vertaal worker`"
        )
    signature = published_signature(s.queue) or {}
    return jsonify(Ready(workers=len(replies), models=model_digests(signature)).model_dump()), 200


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document()), 200


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    """Swagger UI over the OpenAPI document, served from this app's own files."""
    return render_template("api_docs.html")
