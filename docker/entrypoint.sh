#!/bin/sh
# Container start: bring the schema up to date, then hand PID 1 to gunicorn so that
# `docker stop` (SIGTERM) reaches it directly. Arguments replace the gunicorn command,
# e.g. `docker run IMAGE flask --app wsgi users create ...`; migrations still run first.
set -eu

flask --app wsgi db upgrade

if [ "$#" -eq 0 ]; then
    set -- gunicorn --config python:meetings.gunicorn_config --bind 0.0.0.0:8000 wsgi:app
fi
exec "$@"
