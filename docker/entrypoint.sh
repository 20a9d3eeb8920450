#!/bin/sh
# Container start. With no arguments: bring the schema up to date, then hand PID 1 to gunicorn
# so that `docker stop` (SIGTERM) reaches it directly. `worker` runs the media worker instead
# (it holds no database session, so no migration runs; SIGTERM lets recordings finish their
# files). Other arguments replace the gunicorn command, e.g.
# `docker run IMAGE flask --app wsgi users create ...`; migrations still run first.
set -eu

if [ "${1:-}" = "worker" ]; then
    shift
    exec python -m meetings.worker start "$@"
fi

flask --app wsgi db upgrade

if [ "$#" -eq 0 ]; then
    set -- gunicorn --config python:meetings.gunicorn_config --bind 0.0.0.0:8000 wsgi:app
fi
exec "$@"
