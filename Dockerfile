# syntax=docker/dockerfile:1
# One image, three commands (the compose file and deploy/k8s pick one):
#   gateway  uvicorn app.gateway:create_app --factory --host 0.0.0.0 --port 8000  (default)
#   worker   python -m app.worker [--queue NAME]...
#   migrate  orderflow migrate
# Everything is configured by ORDERFLOW_* environment variables (shared/settings.py).

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-bookworm-slim

# The desk's and /docs' front-end files, from npm by package-lock.json, copied as `make assets`
# copies them (tests/test_deploy_compose.py checks the lists match). Built here rather than
# copied from the build context: the image then never depends on whether, or with which lock,
# `make assets` last ran on the machine that builds it. Runtime packages only (--omit=dev).
FROM ${NODE_IMAGE} AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error \
    && mkdir -p vendor \
    && cp node_modules/htmx.org/dist/htmx.min.js vendor/ \
    && cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
       node_modules/swagger-ui-dist/favicon-32x32.png vendor/

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
# The desk at /desk and Swagger UI at /docs serve these; nothing loads from a CDN.
COPY --from=assets /src/vendor ./app/desk/static/vendor
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ORDERFLOW_HOME=/tmp/orderflow
USER 10001:10001
# 8000: the gateway's HTTP port (API, /healthz, /metrics); 9464: a worker's metrics port.
EXPOSE 8000 9464
CMD ["uvicorn", "app.gateway:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
