# syntax=docker/dockerfile:1
# One image, three commands (the compose file and deploy/k8s pick one):
#   gateway  uvicorn app.gateway:create_app --factory --host 0.0.0.0 --port 8000  (default)
#   worker   python -m app.worker [--queue NAME]...
#   migrate  orderflow migrate
# Everything is configured by ORDERFLOW_* environment variables (shared/settings.py).

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml requirements.lock README.md ./
COPY shared ./shared
COPY services ./services
COPY workflows ./workflows
COPY app ./app
# Runtime dependencies only (no `[dev]`), every version pinned by the lock file.
RUN pip install -c requirements.lock .

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 orderflow \
    && useradd --system --uid 10001 --gid orderflow --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin orderflow
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# app/migrate.py finds alembic.ini and migrations/ next to the `app` package, so the
# sources live in /app and PYTHONPATH puts them ahead of the installed copy for every
# command (the `orderflow` script included).
COPY alembic.ini ./
COPY migrations ./migrations
COPY shared ./shared
COPY services ./services
COPY workflows ./workflows
COPY app ./app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ORDERFLOW_HOME=/tmp/orderflow
USER 10001:10001
# 8000: the gateway's HTTP port (API, /healthz, /metrics); 9464: a worker's metrics port.
EXPOSE 8000 9464
CMD ["uvicorn", "app.gateway:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
