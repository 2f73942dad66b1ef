"""The load `make bench-load` puts on the web: run by locust in a process (and a virtual
environment) of its own, never imported by Vertaal or its tests (locust monkey-patches the
standard library when imported). It reads what to poll from the environment that
bench/load.py sets up:

  VERTAAL_LOAD_RUNNING  id of a running job (its progress moves every second)
  VERTAAL_LOAD_DONE     id of a finished job
  VERTAAL_LOAD_CACHED   text of an article whose result is cached

Each simulated user polls like a well-behaved client (the light status view of a running
job, the whole of a finished one, each with If-None-Match), checks health, and now and then
submits an article: new (a cache miss, queued) or the cached one (answered at once).
"""

import os
import uuid

from locust import FastHttpUser, between, task

RUNNING = os.environ.get("VERTAAL_LOAD_RUNNING", "")
DONE = os.environ.get("VERTAAL_LOAD_DONE", "")
CACHED = os.environ.get("VERTAAL_LOAD_CACHED", "")
# What reads the two jobs: they were sent without a key, by one session (see bench/load.py).
TOKEN = os.environ.get("VERTAAL_LOAD_TOKEN", "")
NEW = (
    "De minister zei dinsdag in Den Haag dat er meer geld komt voor de dijken langs de rivieren "
    "({}). De waterschappen zijn daar blij mee, maar zij willen ook meer technici."
)


class Client(FastHttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.etags: dict[str, str] = {}

    def _poll(self, path: str, name: str) -> None:
        headers = {"X-Job-Token": TOKEN}
        if path in self.etags:
            headers["If-None-Match"] = self.etags[path]
        with self.client.get(path, headers=headers, name=name, catch_response=True) as answer:
            if answer.status_code in (200, 304):
                self.etags[path] = answer.headers.get("ETag", "")
                answer.success()
            else:
                answer.failure(f"status {answer.status_code}")

    @task(10)
    def poll_running(self) -> None:
        self._poll(f"/api/v1/jobs/{RUNNING}?view=status", "poll running (status view)")

    @task(4)
    def poll_done(self) -> None:
        self._poll(f"/api/v1/jobs/{DONE}", "poll done (whole job)")

    @task(4)
    def health(self) -> None:
        self.client.get("/api/v1/health", name="health")

    @task(1)
    def submit_new(self) -> None:
        text = NEW.format(uuid.uuid4().hex)
        with self.client.post("/api/v1/jobs", json={"text": text}, name="submit (cache miss)",
                              catch_response=True) as answer:  # fmt: skip
            if answer.status_code != 202:
                answer.failure(f"status {answer.status_code}: {answer.text[:200]}")

    @task(1)
    def submit_cached(self) -> None:
        with self.client.post("/api/v1/jobs", json={"text": CACHED}, name="submit (cache hit)",
                              catch_response=True) as answer:  # fmt: skip
            if answer.status_code != 200:
                answer.failure(f"status {answer.status_code}: {answer.text[:200]}")
