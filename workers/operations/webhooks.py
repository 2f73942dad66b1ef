"""Signed callbacks: when a job with a `callback_url` ends, Vertaal POSTs its status document
there, off the translation path (a Celery queue of its own), at least once: the job-ends
stream's `webhooks` consumer (`operations/ends.py`) queues the first attempt, whichever process
ended the job, and each attempt is claimed in Redis by the task that makes it, so a replayed
end or a duplicated message never calls twice for one attempt.

Each delivery is signed: `X-Vertaal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`, with the webhook secret of the job's API key (or VERTAAL_WEBHOOK_SECRET); a
receiver recomputes it and refuses old timestamps (replays). A delivery that fails is retried
with exponential backoff until VERTAAL_WEBHOOK_RETRY_WINDOW has passed; every attempt is
recorded on the job. Callbacks never reach loopback, private, link-local or other non-public
addresses unless VERTAAL_WEBHOOK_ALLOW lists them, IPv6 forms that carry an IPv4 address
(mapped, compatible, NAT64, 6to4, Teredo) checked as that address; the address is checked when
the job is submitted and again, pinned, at each delivery (a DNS answer may change); redirects
are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from celery import Task, shared_task

from workers.celery_app import WEBHOOK_QUEUE, settings_of
from workers.connections import redis_client
from workers.errors import InputError
from workers.jobs.record import Delivery, JobRecord
from workers.jobs.store import JobStore, job_store
from workers.operations.keys import KeyStore
from workers.operations.metrics import MetricsRecorder
from workers.settings import Settings

log = logging.getLogger(__name__)

DELIVER_TASK = "vertaal.deliver_callback"
SIGNATURE_HEADER = "X-Vertaal-Signature"
MAX_DELAY = 600.0
# + job id + ":" + attempt: "running" while a task makes that attempt, then "done".
ATTEMPT_CLAIM = "vertaal:callback:"
# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local use): the last 32 bits are IPv4.
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


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


def _parts(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or CallbackRefusedError naming the problem."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # "http://[x", a port such as 99999 or "abc"
        raise CallbackRefusedError(f"callback_url is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackRefusedError(f"callback_url must be an http(s) URL, not {url!r}")
    if port == 0:
        raise CallbackRefusedError("callback_url's port must be between 1 and 65535")
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(ip: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (mapped, compatible, NAT64, 6to4, and
    Teredo's server and client): such an address reaches those IPv4 hosts."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if any(ip in network for network in NAT64) or int(ip) >> 32 == 0:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]  # NAT64, or ::a.b.c.d
    return []


def _public(ip: Address) -> bool:
    return all(a.is_global and not a.is_multicast for a in [ip, *embedded_ipv4(ip)])


def resolve_callback(url: str, allow: str) -> Target:
    """The checked target of a callback URL, or CallbackRefusedError saying why not."""
    _, host, port = _parts(url)
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
        if _public(ip):
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
    port = _parts(target.url)[2]
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


def _delay(settings: Settings, attempt: int) -> float:
    return float(min(settings.webhook_retry_base * 2 ** (attempt - 1), MAX_DELAY))


@shared_task(name=DELIVER_TASK, bind=True)
def deliver_callback(self: Task, job_id: str, attempt: int, first_at: float) -> None:
    """One attempt at a job's callback; schedules the next one while the window lasts. The
    attempt is claimed first: a second task for it (a replayed end, a redelivered message)
    finds it made and does nothing, or, while another task is making it, looks again once
    that one's claim would have lapsed (it may have died mid-way)."""
    settings = settings_of(self.app)
    store = job_store(settings)
    job = store.get(job_id)
    if job is None or not job.callback_url:
        return
    claim = f"{ATTEMPT_CLAIM}{job_id}:{attempt}"
    held = int(settings.webhook_timeout * 2 + 30)
    if not store.redis.set(claim, "running", nx=True, ex=held):
        if store.redis.get(claim) != b"done":
            deliver_callback.apply_async(
                args=[job_id, attempt, first_at], countdown=held, queue=WEBHOOK_QUEUE
            )
        return
    try:
        _attempt(store, job, attempt, first_at, settings)
    except BaseException:
        store.redis.delete(claim)  # not made: a replay may make it
        raise
    store.redis.set(claim, "done", ex=settings.job_ttl)


def _attempt(
    store: JobStore, job: JobRecord, attempt: int, first_at: float, settings: Settings
) -> None:
    job_id, url = job.id, job.callback_url or ""
    metrics = MetricsRecorder(redis_client(settings.redis_url))
    now = datetime.now(UTC)
    try:
        target = resolve_callback(url, settings.webhook_allow)
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
