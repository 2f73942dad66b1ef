"""Run the web app under gunicorn, for `vertaal serve`."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from workers.settings import Settings

# Polling clients make many short requests; recycle processes now and then against leaks.
MAX_REQUESTS = 2000


class VertaalServer(BaseApplication):
    """gunicorn with its options set from Settings, each process building its own app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": self.settings.web_processes,
            "timeout": 60,
            "max_requests": MAX_REQUESTS,
            "max_requests_jitter": MAX_REQUESTS // 10,
            "accesslog": "-",
        }
        for name, value in options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        from service.app import create_app

        return create_app(self.settings.model_dump())


def serve(settings: Settings) -> None:
    VertaalServer(settings).run()
