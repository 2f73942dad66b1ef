"""What a job is: its statuses, options, progress and error, the record Redis keeps, and the
view of it that the API returns (and webhooks deliver), as one pydantic model that also
generates the OpenAPI schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workers.pipeline.article import FlaggedSentence, Result

# How much of a job an answer shows: everything, all but the result (for polling), or all
# but the result with only the sentences the checks flagged (service/api.py).
View = Literal["full", "status", "flagged"]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in FINAL


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
FINAL = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class JobOptions:
    """What the submitter asked for, beyond the article itself: an `article` (cleaned,
    translated, summarized; with `markup`, its HTML translated too) or a `document` (the
    whole file translated into a file of its kind, for the DeepL and LibreTranslate file
    protocols)."""

    summary: bool = True
    check_language: bool = True
    markup: bool = False
    kind: Literal["article", "document"] = "article"
    # The digest of the glossary version to enforce (workers/glossaries.py), if any.
    glossary: str | None = None


@dataclass(frozen=True)
class Progress:
    """Sentences translated (or summary steps) of the total, in the named stage, during the
    `attempt`-th start of the job (0 while it has not started; a job whose worker died is
    queued again and starts over, with the next attempt)."""

    done: int = 0
    total: int = 0
    stage: str = "queued"
    attempt: int = 0


@dataclass(frozen=True)
class JobError:
    code: str
    message: str


@dataclass
class JobRecord:
    id: str
    status: JobStatus
    created_at: str
    updated_at: str
    options: JobOptions
    progress: Progress = field(default_factory=Progress)
    error: JobError | None = None
    result: Result | None = None
    filename: str | None = None
    dedupe_key: str | None = None
    attempts: int = 0
    # The id of the message that may run the job now; older messages are skipped.
    delivery: str | None = None
    started_at: str | None = None  # when its current attempt started
    # Where the cache holds the result the job points at (`result` is then read from there).
    result_key: str | None = None
    # The API key that sent it (its id), the URL told of its end, and its callbacks so far.
    api_key: str | None = None
    callback_url: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    # Who may see it: "key:<key id>", or for a job sent without a key "anon:<sha256 of the
    # capability its sender holds>" (see service/ownership.py).
    owner: str | None = None
    # Characters reserved against the key's quota when it was accepted, and in which month.
    reserved: int = 0
    reserved_month: str | None = None

    @property
    def result_gone(self) -> bool:
        """Done, but the cached result it points at was evicted."""
        return self.status is JobStatus.DONE and self.result is None

    def view(self, self_link: str, shown: View = "full") -> JobView:
        """The job as the API shows it; `shown` says how much (see `View`)."""
        callback = None
        if self.callback_url:
            callback = Callback(url=self.callback_url, deliveries=self.deliveries)
        checks = self.result.checks if self.result and shown == "flagged" else None
        return JobView(
            callback=callback,
            id=self.id,
            status=self.status,
            progress=self.progress,
            result=self.result if shown == "full" else None,
            flagged=self.result.flagged_sentences() if self.result and checks else None,
            counts=checks.counts if checks else None,
            error=self.error,
            created_at=self.created_at,
            updated_at=self.updated_at,
            filename=self.filename,
            summary=self.options.summary,
            links=Links(self=self_link),
            token=None,
        )


@dataclass(frozen=True)
class Delivery:
    """One attempt to tell `callback_url` that the job ended."""

    at: str
    attempt: int
    outcome: str  # delivered, retrying, failed, refused
    status_code: int | None = None
    error: str | None = None
    next_attempt_at: str | None = None


class Callback(BaseModel):
    url: str
    deliveries: list[Delivery] = Field(
        description="Each attempt so far; the last says whether it was delivered, will be "
        "retried, or failed for good."
    )


class Links(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    self_: str = Field(alias="self", description="Where to poll this job.")


def _absent(value: object) -> bool:
    return value is None


class JobView(BaseModel):
    """A job as `GET /api/v1/jobs/{id}` shows it; `result` once done, `error` once failed.
    `result`, `flagged`, `counts`, `error`, `callback` and `token` appear only when there is
    one (left out, not null)."""

    model_config = ConfigDict(title="Job", serialize_by_alias=True)

    id: str = Field(pattern="^[0-9a-f]{32}$")
    status: JobStatus
    progress: Progress
    result: Result | None = Field(None, exclude_if=_absent)
    flagged: list[FlaggedSentence] | None = Field(
        None,
        exclude_if=_absent,
        description="Only with `?view=flagged`, once the job is done: the sentences the "
        "checks flagged, in reading order (`paragraph` null: the title), each with its Dutch, "
        "its English and its flags (docs/terms-and-checks.md explains each code).",
    )
    counts: dict[str, int] | None = Field(
        None,
        exclude_if=_absent,
        description="Only with `?view=flagged`, once the job is done: the article's flags "
        "counted by code.",
    )
    error: JobError | None = Field(None, exclude_if=_absent)
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    filename: str | None = Field(description="The uploaded file's name, if any.")
    summary: bool = Field(description="Whether a summary was asked for.")
    links: Links
    callback: Callback | None = Field(
        None, exclude_if=_absent, description="Where the job's end is announced."
    )
    token: str | None = Field(
        None,
        exclude_if=_absent,
        description="Only in the answer to a submission sent without an API key: the job's "
        "access token. Send it back in an `X-Job-Token` header to read or cancel the job (a "
        "client that keeps the session cookie needs no header).",
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
