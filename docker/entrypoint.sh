#!/bin/sh
# Container start: bring the schema up to date, then hand PID 1 to gunicorn so that
# `docker stop` (SIGTERM) reaches it directly. Arguments replace the gunicorn command,
# e.g. `docker run IMAGE flask --app wsgi users create ...`; migrations still run first.
set -eu

flask --app wsgi db upgrade

if [ "$#" -eq 0 ]; then
    set -- gunicorn --workers 2 --threads 8 --bind 0.0.0.0:8000 --access-logfile - wsgi:app
fi
exec "$@"
