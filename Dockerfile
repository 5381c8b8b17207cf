# syntax=docker/dockerfile:1
#
# One image for every Outreach process. The default command is the Procfile's `web` line;
# docker-compose.yml runs `worker`, `beat` and `migrate` from the same image.
#
#   docker build -t outreach .
#   docker run --rm -e SECRET_KEY=... -e DATABASE_URL=... -e REDIS_URL=... -p 8000:8000 outreach
#
# There is no HEALTHCHECK here: the worker and beat containers run this image too and serve no
# HTTP. Compose (and any orchestrator) defines a check per process; the web one is /healthz/.

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# --- frontend: the NHS.UK frontend and htmx, exactly as package-lock.json pins them ---------
# Only the built files leave this stage (scripts/frontend.sh copies them); no Node in the image.
FROM ${NODE_IMAGE} AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts/frontend.sh scripts/frontend.sh
RUN npm ci --ignore-scripts --no-audit --no-fund && sh scripts/frontend.sh /build/vendor

# --- base: the interpreter ------------------------------------------------------------------
# The slim image has no /usr/share/zoneinfo: Europe/London comes from the tzdata wheel that
# requirements.lock pins, and the build fails below if it does not resolve.
FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# --- build: a virtualenv with exactly what the lock file pins -------------------------------
FROM base AS build
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# The runtime lock only (requirements-dev.lock adds the test tools). Every file must match a
# hash in the lock. Wheels only: nothing is compiled (psycopg[binary]),
# so the image needs no compiler and a missing wheel fails the build instead of building one.
RUN pip install --require-hashes --only-binary=:all: -r /tmp/requirements.lock

# --- runtime ---------------------------------------------------------------------------------
FROM base AS runtime
# A system user with a home of its own (gunicorn puts its control socket under ~/.gunicorn).
RUN groupadd --system --gid 10001 outreach \
    && useradd --system --uid 10001 --gid outreach --create-home --home-dir /home/outreach \
        --shell /usr/sbin/nologin outreach
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root, so the app user cannot change it. .dockerignore keeps out .env,
# var/, .venv/ and .git/.
COPY . .
COPY --from=frontend /build/vendor var/vendor
# Static files are collected once, at build time, into var/static/ (STATIC_ROOT). DEBUG is
# unset so the manifest storage that production uses writes its hashed names and manifest.
# SECRET_KEY is a throwaway that exists only for this command and never reaches the image.
# The last step makes var/ writable by the app user: beat keeps its schedule file there
# (CELERY_BEAT_SCHEDULE_FILENAME is var/celerybeat-schedule).
RUN env -u DEBUG SECRET_KEY=build-only-throwaway-not-a-secret OUTREACH_READ_DOTENV=false \
        python manage.py collectstatic --no-input --verbosity 0 \
    && python -c "import zoneinfo; zoneinfo.ZoneInfo('Europe/London')" \
    && mkdir -p var \
    && chown -R outreach:outreach var

# Settings come only from the environment, never from a .env file inside the container.
# Inside a container the loopback address is unreachable from outside, so gunicorn binds to
# every interface (the Procfile's default of 127.0.0.1 is for a developer's machine).
ENV OUTREACH_READ_DOTENV=false \
    BIND_ADDRESS=0.0.0.0

USER outreach
EXPOSE 8000

# The Procfile's `web` line, through sh so that ${VAR:-default} is expanded at start-up;
# `exec` makes gunicorn PID 1 so that it receives SIGTERM and shuts down gracefully.
CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind ${BIND_ADDRESS:-127.0.0.1}:${PORT:-8000} --workers ${WEB_CONCURRENCY:-2} --access-logfile -"]
