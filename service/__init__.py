"""The Flask front end: the web pages and the JSON API, built by `create_app(overrides)`.

The web process queues jobs and reads job records; it never imports torch or transformers.
"""

from service.app import create_app

__all__ = ["create_app"]
