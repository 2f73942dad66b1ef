# Two images from one file:
#   docker build --target web -t vertaal-web .        the web: no torch, no model libraries
#   docker build --target worker -t vertaal-worker .  workers, `vertaal models`: the models' libraries
# Both install into /opt/vertaal in a build stage and copy only that into a slim final stage.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/vertaal/bin:$PATH
# A fixed uid, so Kubernetes' runAsNonRoot can check it (deploy/kubernetes).
RUN useradd --uid 10001 --user-group --create-home vertaal

FROM base AS source
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
COPY cli ./cli

FROM source AS build-web
RUN python -m venv /opt/vertaal && /opt/vertaal/bin/pip install ".[web]"

FROM source AS build-worker
# The CPU build of torch first, pinned: an unpinned torch pulls gigabytes of CUDA packages.
RUN python -m venv /opt/vertaal \
    && /opt/vertaal/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && /opt/vertaal/bin/pip install ".[worker]"

FROM base AS web
COPY --from=build-web /opt/vertaal /opt/vertaal
USER 10001
EXPOSE 8000
CMD ["vertaal", "serve", "--host", "0.0.0.0", "--port", "8000"]

FROM base AS worker
ENV HF_HOME=/models \
    VERTAAL_CONVERTED_DIR=/models/ctranslate2
RUN mkdir -p /models && chown 10001:10001 /models
COPY --from=build-worker /opt/vertaal /opt/vertaal
USER 10001
CMD ["vertaal", "worker", "--queues", "vertaal"]
