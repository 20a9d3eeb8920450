#!/bin/sh
# Apply migrations, then hand the process over to gunicorn (signals reach it directly).
set -e
flask --app wsgi db upgrade
exec gunicorn --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-8}" \
  --bind "0.0.0.0:${PORT:-8000}" --access-logfile - wsgi:app
