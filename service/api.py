"""The JSON job API under /api/v1: submit, poll, cancel, health, readiness, OpenAPI."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from service import services
from service.errors import error_response
from service.openapi import openapi_document
from service.submission import parse_request, submit
from workers.cache import published_signature
from workers.connections import RedisUnavailable
from workers.jobs import JobRecord

bp = Blueprint("api", __name__)

WORKER_PING_TIMEOUT = 1.0


def job_body(job: JobRecord) -> dict[str, Any]:
    return {**job.to_api(), "links": {"self": url_for("api.get_job", job_id=job.id)}}


def _unknown(job_id: str) -> ResponseReturnValue:
    return error_response(
        404, "not_found", f"no job {job_id!r}: the id is wrong or the job has expired"
    )


@bp.post("/jobs")
def create_job() -> ResponseReturnValue:
    s = services()
    submission = submit(s, parse_request(request, s.settings.max_text_bytes))
    response = jsonify(job_body(submission.job))
    response.headers["Location"] = url_for("api.get_job", job_id=submission.job.id)
    # 200: answered from the cache, already done. 202: queued (or joined an identical job).
    return response, 200 if submission.outcome == "cached" else 202


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> ResponseReturnValue:
    job = services().jobs.get(job_id)
    if job is None:
        return _unknown(job_id)
    return jsonify(job_body(job)), 200


@bp.delete("/jobs/<job_id>")
def cancel_job(job_id: str) -> ResponseReturnValue:
    """A queued job never runs; a running one stops at its next batch."""
    job = services().jobs.get(job_id)
    if job is None:
        return _unknown(job_id)
    if not services().jobs.cancel(job_id):
        current = services().jobs.get(job_id)
        status = current.status.value if current else "gone"
        return error_response(409, "not_active", f"job {job_id} is already {status}")
    cancelled = services().jobs.get(job_id)
    assert cancelled is not None
    return jsonify(job_body(cancelled)), 200


@bp.get("/health")
def health() -> ResponseReturnValue:
    """The web process is up; checks nothing else."""
    return jsonify({"status": "ok"}), 200


@bp.get("/ready")
def ready() -> ResponseReturnValue:
    """Redis answers and at least one worker replies to a ping."""
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
    return jsonify(
        {"status": "ready", "workers": len(replies), "signature": published_signature(s.queue)}
    ), 200


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document()), 200
