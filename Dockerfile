# One image for every Nearstock process; the command names the Procfile line to run (web, worker,
# cron, release), see docker/entrypoint.sh and docker-compose.yml.
FROM python:3.11-slim

# Unbuffered, so JSON log lines reach `docker logs` at once; no .pyc writes into /app, which the
# app's user cannot write to.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer, rebuilt only when the pins change. Every pin has a manylinux
# wheel, so no compiler enters the image; requirements-dev.txt (pytest, ruff, …) never does either.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# What the processes import and run, nothing else (no tests, sandbox, benchmarks).
COPY Procfile ./
COPY docker/ docker/
COPY integration/ integration/
COPY connectors/ connectors/
COPY jobs/ jobs/

# The code stays root-owned and read-only to the process; only the user's home is writable.
RUN useradd --create-home --uid 10001 --user-group nearstock
USER nearstock

ENV NEARSTOCK_ENV=production \
    PORT=8000
EXPOSE 8000

ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
CMD ["web"]
