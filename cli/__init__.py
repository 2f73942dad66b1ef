"""The `vertaal` command: translate folders in-process or through a service, run the service
(`serve`, `worker`, `up`), manage models. A thin door onto the core in `workers/`."""
