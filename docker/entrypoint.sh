#!/bin/sh
# The image's entrypoint. A Procfile process name (web, worker, cron, release) runs that Procfile
# line, so containers and every other Procfile runner start the very same commands and the
# Procfile stays their one definition. Anything else runs as given
# (`docker compose run --rm worker flask --app integration jobs failed`).
set -eu
cd "$(dirname "$0")/.."
# Metrics under Docker Compose: every container keeps its samples in a directory of its own,
# named after its hostname, inside the volume they share; web's /metrics sums them all (process
# ids repeat across containers, so one directory for all would mix them up).
if [ -n "${METRICS_SHARED_DIR:-}" ] && [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    PROMETHEUS_MULTIPROC_DIR="$METRICS_SHARED_DIR/$(uname -n)"
    export PROMETHEUS_MULTIPROC_DIR
fi
if [ "$#" -eq 1 ]; then
    line=$(awk -v name="$1" 'index($0, name ":") == 1 { print substr($0, length(name) + 2); exit }' Procfile)
    if [ -n "$line" ]; then
        # eval: a Procfile line is shell (${PORT:-8000}, "$REDIS_URL"), as every runner reads it.
        # exec: the process itself receives `docker stop`'s SIGTERM and shuts down gracefully.
        eval "exec $line"
    fi
fi
exec "$@"
