"""`vertaal translate --notify URL`: tell a URL how a folder run went, once it is over."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from cli.batch import BatchSummary
from cli.exits import error
from workers.operations.webhooks import SIGNATURE_HEADER, sign

ATTEMPTS = 3


def notify_summary(url: str, summary: BatchSummary, secret: str | None) -> bool:
    """POST the run's summary, signed when a secret is set; a few tries, then a warning
    (the outputs are written either way)."""
    if urlsplit(url).scheme not in ("http", "https"):
        error(f"--notify needs an http(s) URL, not {url!r}")
        return False
    body = json.dumps(
        {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "translated": [str(p) for p in summary.translated],
            "skipped": [str(p) for p in summary.skipped],
            "failed": [{"path": str(p), "reason": r} for p, r in summary.failed],
            "ignored": [str(p) for p in summary.ignored],
            "line": summary.line(),
        },
        ensure_ascii=False,
    ).encode()
    headers = {"Content-Type": "application/json"}
    problem = ""
    for attempt in range(ATTEMPTS):
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, int(time.time()), body)
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=10)
            if response.is_success:
                return True
            problem = f"HTTP {response.status_code}"
        except httpx.HTTPError as failed:
            problem = str(failed)
        time.sleep(2**attempt)
    error(f"could not notify {url}: {problem}")
    return False
