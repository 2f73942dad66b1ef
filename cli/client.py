"""A client of a running Vertaal service, for `vertaal translate --server URL`.

Submits each file to the job API, polls until the job ends, and returns the same Result the
in-process pipeline would, so both modes write the same outputs.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from cli.batch import ArticleFile, StopRequested
from cli.glossaries import read_glossary
from workers.errors import InputError, JobFailedError, VertaalError, error_from_code
from workers.pipeline.article import Result
from workers.pipeline.run import ProgressCallback
from workers.pipeline.terms.glossary import Glossary

FIRST_POLL = 0.2
MAX_POLL = 2.0


class ServiceUnreachableError(VertaalError):
    code = "service_unreachable"


def _error(response: httpx.Response) -> VertaalError:
    """The error the service's JSON answer names, as the service raised it."""
    try:
        error = response.json()["error"]
        return error_from_code(str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        return VertaalError(f"HTTP {response.status_code}")


def _message(response: httpx.Response) -> str:
    return str(_error(response))


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        *,
        summary: bool,
        check_language: bool,
        api_key: str | None = None,
        markup: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.form = {"summary": str(summary).lower(), "check_language": str(check_language).lower()}
        self.markup = markup
        self.api_key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(30.0, connect=5.0), headers=headers
        )
        self.stopping = threading.Event()
        self._token: str | None = None
        self._token_lock = threading.Lock()
        # Without a key, the jobs this run sends are read with the access token the first
        # answer gave (its threads share no reliable cookie: their answers race to set it).
        self.job_token: str | None = None
        self.glossary_id: str | None = None

    def _form_headers(self) -> dict[str, str]:
        """A form post to the API carries the service's CSRF token (its cookie stays in
        this client); the referrer is the service itself, as over HTTPS it must be. A key
        stands in for the token."""
        if self.api_key:
            return {}
        with self._token_lock:
            if self._token is None:
                response = self._call("GET", "/api/v1/csrf")
                self._token = str(self._answer(response, "csrf_token")["csrf_token"])
        return {"X-CSRFToken": self._token, "Referer": self.base_url + "/"}

    def stop(self) -> None:
        """Interrupt the run: each article in flight cancels its job and raises StopRequested."""
        self.stopping.set()

    def _cancel(self, job: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        with contextlib.suppress(httpx.HTTPError):  # best effort: the run is ending anyway
            self.http.delete(job["links"]["self"], timeout=5.0, headers=headers)

    def _owner_headers(self) -> dict[str, str]:
        return {"X-Job-Token": self.job_token} if self.job_token else {}

    def _answer(self, response: httpx.Response, *fields: str) -> dict[str, Any]:
        """The JSON body, which must hold each (dotted) field; else this is no Vertaal service."""
        try:
            body = dict(response.json())
            for path in fields:
                value: Any = body
                for key in path.split("."):
                    value = value[key]
        except (ValueError, KeyError, TypeError):
            raise ServiceUnreachableError(
                f"{self.base_url} did not answer like a Vertaal service "
                f"(HTTP {response.status_code}, {response.headers.get('content-type')})"
            ) from None
        return body

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ServiceUnreachableError(
                f"cannot reach the Vertaal service at {self.base_url} ({error})"
            ) from None

    def model_digests(self) -> Mapping[str, str]:
        """What the service's workers produce (digests of their models and settings); refuses
        to start a run against a service that is not ready."""
        response = self._call("GET", "/api/v1/ready")
        if response.status_code != 200:
            raise ServiceUnreachableError(
                f"the service at {self.base_url} is not ready: {_message(response)}"
            )
        return dict(self._answer(response, "models")["models"])

    def use_glossary(self, chosen: Path | str) -> str:
        """Send every article with a glossary: one of the service's (by its id), or a file's,
        made there unless the sender has one of the same version. Its version."""
        if isinstance(chosen, Path):
            made = self._glossary_of(read_glossary(chosen))  # a bad file: refused here
        else:
            made = self._glossary_call("GET", f"/api/v1/glossaries/{chosen}", 200)
        self.glossary_id = str(made["id"])
        # Created without a key: this run's jobs are the glossary's sender's, to use it.
        self.job_token = made.get("token") or self.job_token
        return str(made["version"])

    def _glossary_of(self, glossary: Glossary) -> dict[str, Any]:
        """The sender's glossary of these entries: one a run with this key made before (so
        runs do not pile up copies), or one made now."""
        listed = self._glossary_call("GET", "/api/v1/glossaries", 200, "glossaries")
        for found in listed["glossaries"]:
            if found.get("scope") == "own" and found.get("version") == glossary.digest:
                return dict(found)
        body = {"name": glossary.name, "entries": glossary.to_tsv(), "entries_format": "tsv"}
        return self._glossary_call("POST", "/api/v1/glossaries", 201, json=body)

    def _glossary_call(
        self, method: str, path: str, expected: int, *fields: str, **kwargs: Any
    ) -> dict[str, Any]:
        response = self._call(method, path, **kwargs)
        if response.status_code != expected:
            raise _error(response)
        return self._answer(response, *(fields or ("id", "version")))

    def translate(self, article: ArticleFile, data: bytes, on_progress: ProgressCallback) -> Result:
        form = {**self.form, "format": "html"} if self.markup else self.form
        if self.glossary_id:
            form = {**form, "glossary_id": self.glossary_id}
        response = self._call(
            "POST", "/api/v1/jobs", files={"file": (article.path.name, data)}, data=form,
            headers={**self._form_headers(), **self._owner_headers()},
        )  # fmt: skip
        if response.status_code not in (200, 202):
            error = _error(response)
            if isinstance(error, InputError):  # the article is the problem: the run goes on
                raise error
            raise ServiceUnreachableError(f"the service refused the job: {error}")
        job = self._answer(response, "status", "links.self")
        with self._token_lock:
            self.job_token = self.job_token or job.get("token")
        headers = {"X-Job-Token": job["token"]} if job.get("token") else {}
        try:
            job = self._wait(article, job, on_progress, headers)
        except BaseException:  # Ctrl-C (in this thread or another), or the service gone
            self._cancel(job, headers)
            raise
        if job["status"] == "done":
            return Result.from_dict(job["result"])
        if job["status"] == "cancelled":
            raise JobFailedError("the job was cancelled on the server")
        raise JobFailedError(job.get("error", {}).get("message", "the job failed"))

    def _wait(
        self,
        article: ArticleFile,
        job: dict[str, Any],
        on_progress: ProgressCallback,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        """Poll until the job ends; its last state."""
        delay = FIRST_POLL
        while job["status"] in ("queued", "running"):
            progress = job["progress"]
            if progress["total"]:
                on_progress(progress["done"], progress["total"], progress["stage"])
            if self.stopping.wait(delay):
                raise StopRequested(article.name)
            delay = min(MAX_POLL, delay * 1.5)
            polled = self._call("GET", job["links"]["self"], headers=headers)
            if polled.status_code != 200:
                raise JobFailedError(f"the job disappeared: {_message(polled)}")
            job = self._answer(polled, "status", "links.self")
        return job
