"""Signed callbacks: when a job with a `callback_url` ends, Vertaal POSTs its status document
there, off the translation path (a Celery queue of its own), at least once.

Each delivery is signed: `X-Vertaal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`, with the webhook secret of the job's API key (or VERTAAL_WEBHOOK_SECRET); a
receiver recomputes it and refuses old timestamps (replays). A delivery that fails is retried
with exponential backoff until VERTAAL_WEBHOOK_RETRY_WINDOW has passed; every attempt is
recorded on the job. Callbacks never reach loopback, private, link-local or other non-public
addresses unless VERTAAL_WEBHOOK_ALLOW lists them; the address is checked when the job is
submitted and again, pinned, at each delivery (a DNS answer may change); redirects are not
followed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from celery import Celery, Task, shared_task

from workers.celery_app import WEBHOOK_QUEUE, create_celery, settings_of
from workers.connections import redis_client
from workers.errors import InputError
from workers.jobs.record import Delivery, JobRecord
from workers.operations.keys import KeyStore
from workers.operations.metrics import MetricsRecorder
from workers.settings import Settings

log = logging.getLogger(__name__)

DELIVER_TASK = "vertaal.deliver_callback"
SIGNATURE_HEADER = "X-Vertaal-Signature"
MAX_DELAY = 600.0


class CallbackRefusedError(InputError):
    code = "callback_refused"


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _allowed(allow: str) -> list[Network | str]:
    entries: list[Network | str] = []
    for entry in (e.strip() for e in allow.split(",")):
        if not entry:
            continue
        try:
            entries.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            entries.append(entry.lower())  # a host name
    return entries


@dataclass(frozen=True)
class Target:
    """Where a callback goes: the URL, and the address checked for it."""

    url: str
    host: str
    address: str


def resolve_callback(url: str, allow: str) -> Target:
    """The checked target of a callback URL, or CallbackRefusedError saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackRefusedError(f"callback_url must be an http(s) URL, not {url!r}")
    host = parts.hostname.lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = {
            str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        }
    except (socket.gaierror, UnicodeError) as error:
        raise CallbackRefusedError(
            f"callback_url's host {host!r} does not resolve: {error}"
        ) from None
    allowed = _allowed(allow)
    for address in sorted(found):
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_global and not ip.is_multicast:
            continue
        if host in allowed or any(isinstance(n, Network) and ip in n for n in allowed):
            continue
        raise CallbackRefusedError(
            f"callback_url points at {ip}, a loopback, private or otherwise non-public address; "
            "list it in VERTAAL_WEBHOOK_ALLOW to allow it"
        )
    return Target(url, host, sorted(found)[0])


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, tolerance: float = 300) -> bool:
    """What a receiver does (and the tests): the signature matches and is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def post_signed(target: Target, body: bytes, secret: str | None, timeout: float) -> httpx.Response:
    """POST `body` to the checked address (not a fresh DNS answer), without redirects."""
    parts = urlsplit(target.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = f"[{target.address}]" if ":" in target.address else target.address
    pinned = parts._replace(netloc=f"{address}:{port}").geturl()
    headers = {"Content-Type": "application/json", "Host": parts.netloc.rsplit("@", 1)[-1]}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, int(time.time()), body)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        return client.post(
            pinned, content=body, headers=headers, extensions={"sni_hostname": target.host}
        )


def secret_for(job: JobRecord, settings: Settings) -> str | None:
    if job.api_key:
        record = KeyStore(redis_client(settings.redis_url)).get(job.api_key)
        if record is not None:
            return record.webhook_secret
    return settings.webhook_secret


def job_document(job: JobRecord) -> bytes:
    """The job's status document, as GET /api/v1/jobs/{id} shows it."""
    return json.dumps(job.view(f"/api/v1/jobs/{job.id}").to_json(), ensure_ascii=False).encode()


@functools.cache
def _celery(settings: Settings) -> Celery:
    return create_celery(settings)


def announcer(settings: Settings) -> Any:
    """The job-end listener: queue the delivery of a job's callback, if it has one."""

    def announce(job: JobRecord) -> None:
        if job.callback_url:
            _celery(settings).send_task(
                DELIVER_TASK, args=[job.id, 1, time.time()], queue=WEBHOOK_QUEUE
            )

    return announce


def _delay(settings: Settings, attempt: int) -> float:
    return float(min(settings.webhook_retry_base * 2 ** (attempt - 1), MAX_DELAY))


@shared_task(name=DELIVER_TASK, bind=True)
def deliver_callback(self: Task, job_id: str, attempt: int, first_at: float) -> None:
    """One attempt at a job's callback; schedules the next one while the window lasts."""
    from workers.jobs.store import job_store

    settings = settings_of(self.app)
    store = job_store(settings)
    job = store.get(job_id)
    if job is None or not job.callback_url:
        return
    metrics = MetricsRecorder(redis_client(settings.redis_url))
    now = datetime.now(UTC)
    try:
        target = resolve_callback(job.callback_url, settings.webhook_allow)
        response = post_signed(
            target, job_document(job), secret_for(job, settings), settings.webhook_timeout
        )
        status_code: int | None = response.status_code
        error = None if response.is_success else f"HTTP {response.status_code}"
    except CallbackRefusedError as refused:
        store.record_delivery(job_id, Delivery(_iso(now), attempt, "refused", error=str(refused)))
        metrics.count("vertaal_webhook_deliveries", outcome="refused")
        return
    except httpx.HTTPError as failed:
        status_code, error = None, f"{type(failed).__name__}: {failed}"
    if error is None:
        store.record_delivery(job_id, Delivery(_iso(now), attempt, "delivered", status_code))
        metrics.count("vertaal_webhook_deliveries", outcome="delivered")
        return
    delay = _delay(settings, attempt)
    if time.time() + delay - first_at > settings.webhook_retry_window:
        store.record_delivery(job_id, Delivery(_iso(now), attempt, "failed", status_code, error))
        metrics.count("vertaal_webhook_deliveries", outcome="failed")
        log.warning("callback of job %s failed for good after %d attempts", job_id, attempt)
        return
    next_at = _iso(now + timedelta(seconds=delay))
    store.record_delivery(
        job_id, Delivery(_iso(now), attempt, "retrying", status_code, error, next_at)
    )
    metrics.count("vertaal_webhook_deliveries", outcome="retrying")
    deliver_callback.apply_async(
        args=[job_id, attempt + 1, first_at], countdown=delay, queue=WEBHOOK_QUEUE
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
