"""Run the web app under gunicorn, for `vertaal serve`."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
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
# Each request's path without its query string (%(U)s, not the request line %(r)s): clients
# of the LibreTranslate protocol send their api_key and the text itself (q) in the query, and
# neither may reach a log. No referer (another page's query) and no basic-auth user either.
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


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
    """gunicorn with its options set from Settings, each process building its own app.
    `quiet`: warnings and errors only, no line per request (`vertaal up` without -v)."""

    def __init__(self, settings: Settings, *, quiet: bool = False) -> None:
        self.settings = settings
        self.quiet = quiet
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
            "accesslog": None if self.quiet else "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "loglevel": "warning" if self.quiet else "info",
        }
        if self.settings.log_format == "json":
            options["logconfig_dict"] = gunicorn_json_logging()
        options["on_starting"] = fresh_metrics_dir
        options["child_exit"] = forget_dead_process
        for name, value in options.items():
            self.cfg.set(name, value)
        # Installed in the master, before the workers fork, so every worker answers in JSON.
        gunicorn.util.write_error = write_json_error

    def load(self) -> Flask:
        from service.app import create_app

        return create_app(self.settings.model_dump())


def fresh_metrics_dir(server: Any) -> None:
    """gunicorn's master, at start: the web processes' metric files, from zero."""
    folder = Path(os.environ[METRICS_DIR])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def forget_dead_process(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class AccessFields(logging.Filter):
    """gunicorn's access record, as JSON fields (and the request's id, from its answer)."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, dict) else None
        if atoms:
            record.http = {
                "method": atoms["m"],
                "path": atoms["U"],
                "status": int(atoms["s"]),
                "bytes": atoms["B"],
                "duration_ms": atoms["M"],
                "remote": atoms["h"],
            }
            record.request_id = atoms["{x-request-id}o"] or None
            record.msg, record.args = "access", ()
        return True


def gunicorn_json_logging() -> dict[str, Any]:
    from workers.operations.logs import logging_config

    config = logging_config("json")
    config["filters"]["access"] = {"()": AccessFields}
    config["handlers"]["access"] = {
        "class": "logging.StreamHandler",
        "formatter": "vertaal",
        "filters": ["access"],
        "stream": "ext://sys.stdout",
    }
    config["loggers"] = {
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    }
    return config


# Where prometheus_client keeps each web process's figures (multiprocess mode). It must be
# set before prometheus_client is first imported, which importing `service` does: the
# `vertaal serve` command sets it (cli/serving.py) before it imports this module.
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def serve(settings: Settings, *, quiet: bool = False) -> None:
    """Run gunicorn until it is stopped."""
    VertaalServer(settings, quiet=quiet).run()
