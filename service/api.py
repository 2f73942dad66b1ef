"""The JSON job API under /api/v1: submit, poll, cancel, health, readiness, OpenAPI, docs."""

from __future__ import annotations

from typing import get_args

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf
from pydantic import ValidationError
from werkzeug.exceptions import BadRequest

from service import glossaries
from service.auth import AuthError, authenticate, current_key
from service.context import services
from service.errors import error_response
from service.openapi import documented, openapi_document, responses
from service.ownership import may_read, new_owner, owns
from service.schemas import CsrfToken, Health, JobForm, JobQuery, JobRequest, Ready, Usage
from service.submission import parse_request, submit
from workers.cache import published_signature
from workers.connections import RedisUnavailable
from workers.engines.signature import model_digests
from workers.jobs.record import JobRecord, JobStatus, JobView, View
from workers.operations import heartbeats
from workers.operations.keys import KeyStore, month

bp = Blueprint("api", __name__)
# Glossaries have a module of their own, under the API's checks and error shape.
bp.register_blueprint(glossaries.bp)

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


# Open to anyone even when keys are required: liveness and readiness probes (which can send
# no key, and learn only whether workers are alive and what models they run) and the docs.
OPEN = ("api.health", "api.ready", "api.openapi", "api.docs", "api.csrf_token")


@bp.before_request
def check_key_and_origin() -> None:
    """The API key (see service/auth.py), then cross-site forms: a browser on any site can
    post a form here without asking (JSON needs a preflight it would not get), so a form post
    needs this site's CSRF token, as the web form has, unless it carries a valid key."""
    if request.endpoint in OPEN:
        return
    key = authenticate()
    if request.method == "POST" and request.mimetype in FORM_TYPES and key is None:
        if any(not isinstance(name, str) for name in request.form):
            raise BadRequest("a form field's name is not valid UTF-8")
        current_app.extensions["csrf"].protect()


@bp.errorhandler(AuthError)
def refused(error: AuthError) -> ResponseReturnValue:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    return error_response(error.status, error.code, error.message, headers)


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> ResponseReturnValue:
    return error_response(
        403,
        "csrf_required",
        f"{error.description} A form post to the API needs the token from GET /api/v1/csrf "
        "(in an X-CSRFToken header, with its cookie); programs can send JSON instead.",
    )


def job_json(job: JobRecord, token: str | None = None) -> Response:
    view = job.view(url_for("api.get_job", job_id=job.id))
    return jsonify(view.model_copy(update={"token": token}).to_json())


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
        (400, 401, 403, 404, 413, 415, 422, 429, 503),
    ),
    tags=["jobs"],
)
def create_job() -> ResponseReturnValue:
    """Submit an article

    JSON with the text, or a form with a file upload (or a `text` field). A cached result
    answers at once (200); otherwise the job is queued (202), or an identical active job of
    the same sender is returned instead of a second one. With an API key, the job is the
    key's; without one, the answer's `token` is what reads it again (send it back in
    `X-Job-Token`, or keep the session cookie the answer sets).
    """
    s = services()
    owner = new_owner()
    submission = submit(s, parse_request(request), owner=owner.owner, key=current_key())
    response = job_json(submission.job, owner.token)
    response.headers["Location"] = url_for("api.get_job", job_id=submission.job.id)
    # 200: answered from the cache, already done. 202: queued (or joined an identical job).
    return response, 200 if submission.outcome == "cached" else 202


@bp.get("/jobs/<job_id>")
@documented(
    query=JobQuery,
    resp=responses(
        {200: (JobView, "The job."), 304: (None, "Not modified since the ETag sent.")},
        (400, 404, 410, 503),
    ),
    tags=["jobs"],
)
def get_job(job_id: str) -> ResponseReturnValue:
    """A job's status, progress and, when done, its result

    `?view=status` leaves the result out (what a poller needs until the job ends);
    `?view=flagged` leaves it out too, but lists the sentences the per-sentence checks
    flagged (`flagged`) and the flags counted by code (`counts`). Every answer has an `ETag`:
    send it back in `If-None-Match` and, while the job has not moved, the answer is `304`
    with no body, sent without reading the job.
    """
    try:
        view = JobQuery.model_validate({"view": request.args.get("view", "full")}).view
    except ValidationError:
        *others, last = (f"'{name}'" for name in get_args(View))
        raise BadRequest(f"view: must be {', '.join(others)} or {last}") from None
    answer = job_answer(job_id, url_for("api.get_job", job_id=job_id), view)
    return answer if answer is not None else _unknown(job_id)


def job_answer(job_id: str, self_link: str, view: View) -> Response | None:
    """The job as JSON with its ETag (one per view), or 304 for a client that holds the
    current version; None for an unknown job, or one the request may not see."""
    jobs = services().jobs
    if not may_read(job_id, jobs.owner(job_id)):
        return None
    version = jobs.version(job_id)
    if version is None:
        return None
    etag = f"{view}-{version}"
    # Weak comparison, as RFC 9110 asks for If-None-Match: a proxy that compresses the answer
    # hands the client our tag as W/"…", and that must still match.
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        job = jobs.get(job_id, with_result=view != "status")
        if job is None:
            return None
        if view != "status" and job.result_gone:
            return error_response(
                410,
                "result_gone",
                f"job {job_id} is done, but the cache has since dropped its result; submit "
                "the article again",
            )
        response = jsonify(job.view(self_link, view).to_json())
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"  # always ask; the ETag makes asking cheap
    return response


@bp.delete("/jobs/<job_id>")
@documented(resp=responses({200: (JobView, "Cancelled.")}, (404, 409, 503)), tags=["jobs"])
def cancel_job(job_id: str) -> ResponseReturnValue:
    """Cancel a queued or running job

    A queued job never runs; a running one stops at its next batch.
    """
    jobs = services().jobs
    if not owns(jobs.owner(job_id)):
        return _unknown(job_id)
    cancelled = jobs.end(job_id, JobStatus.CANCELLED)
    job = jobs.get(job_id, with_result=False)
    if job is None:
        return _unknown(job_id)
    if not cancelled:
        return error_response(409, "not_active", f"job {job_id} is already {job.status}")
    return job_json(job), 200


@bp.get("/usage")
@documented(
    resp=responses({200: (Usage, "This key's use this month.")}, (401,)),
    tags=["keys"],
    security={"apiKey": []},
)
def usage() -> ResponseReturnValue:
    """Characters translated with this API key this month, against its quota"""
    key = current_key()
    if key is None:
        raise AuthError(401, "api_key_required", "usage is counted per key: send yours")
    used = KeyStore(services().queue).usage(key.id)
    body = Usage(
        key=key.id, name=key.name, month=month(), characters=used,
        character_limit=key.chars_per_month,
    )  # fmt: skip
    return jsonify(body.model_dump()), 200


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
    """Redis answers and a worker is alive

    Workers count as alive while their heartbeats in Redis are fresh: one round trip.
    """
    s = services()
    try:
        workers = heartbeats.live_workers(s.queue, s.settings.heartbeat_seconds)
        signature = published_signature(s.queue) or {}
    except RedisUnavailable:
        return error_response(503, "redis_unavailable", "Redis (the job queue) is not answering")
    if not workers:
        return error_response(
            503, "no_workers", "no worker is alive; start one with `vertaal worker`"
        )
    return jsonify(Ready(workers=workers, models=model_digests(signature)).model_dump()), 200


@bp.get("/csrf")
@documented(resp=responses({200: (CsrfToken, "A token, and its cookie.")}, ()), tags=["service"])
def csrf_token() -> ResponseReturnValue:
    """A CSRF token for form posts to the API

    Send it back in an `X-CSRFToken` header with the session cookie this answer sets. Only
    pages of this site (and programs) can read it; JSON posts need no token.
    """
    return jsonify(CsrfToken(csrf_token=generate_csrf()).model_dump()), 200


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document()), 200


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    """Swagger UI over the OpenAPI document, served from this app's own files."""
    return render_template("api_docs.html")
