"""Run the web app under gunicorn, for `vertaal serve`."""

from __future__ import annotations

import json
from typing import Any

import gunicorn.util
from flask import Flask
from gunicorn.app.base import BaseApplication

from workers.settings import Settings

# Polling clients make many short requests; recycle processes now and then against leaks.
MAX_REQUESTS = 2000
# gunicorn's own ceiling for a request line: long enough for any URL this app serves (an
# over-long job id then gets the API's JSON 404); longer ones get gunicorn's 414, in JSON.
REQUEST_LINE_LIMIT = 8190


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn answers requests it cannot parse (a request line over the limit, a bad
    header) before the app sees them, with an HTML page; answer in the API's JSON shape."""
    code = reason.lower().replace(" ", "_") or "bad_request"
    body = json.dumps({"error": {"code": code, "message": mesg or reason}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)


class VertaalServer(BaseApplication):
    """gunicorn with its options set from Settings, each process building its own app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": self.settings.web_processes,
            # Threads: a slow client (a large upload over a slow line) holds one thread, not
            # a whole process, and many pollers share few processes.
            "worker_class": "gthread",
            "threads": self.settings.web_threads,
            "timeout": 60,
            "max_requests": MAX_REQUESTS,
            "max_requests_jitter": MAX_REQUESTS // 10,
            "limit_request_line": REQUEST_LINE_LIMIT,
            "accesslog": "-",
        }
        for name, value in options.items():
            self.cfg.set(name, value)
        # Installed in the master, before the workers fork, so every worker answers in JSON.
        gunicorn.util.write_error = write_json_error

    def load(self) -> Flask:
        from service.app import create_app

        return create_app(self.settings.model_dump())


def serve(settings: Settings) -> None:
    VertaalServer(settings).run()
