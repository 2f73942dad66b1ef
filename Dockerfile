# One image for the web app and the workers; they differ only by command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/models

# The CPU build of torch first, pinned: an unpinned torch pulls gigabytes of CUDA packages.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
COPY cli ./cli
RUN pip install .

RUN useradd --create-home vertaal && mkdir -p /models && chown vertaal /models
USER vertaal

EXPOSE 8000
CMD ["vertaal", "serve", "--host", "0.0.0.0", "--port", "8000"]
