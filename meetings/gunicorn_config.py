"""gunicorn settings shared by `make run`, the Docker image, the tests and the benchmark:
`gunicorn -c python:meetings.gunicorn_config wsgi:app` (command-line options still win)."""

import os
from pathlib import Path

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
accesslog = "-"
logger_class = "meetings.access_log.RedactingLogger"
# One control socket per running instance (gunicorn's default is one fixed path in the
# home directory, shared by every instance on the machine). This file is read once, by
# the master, so its pid names the instance.
_runtime = Path(os.environ.get("INSTANCE_DIR", Path(__file__).resolve().parent.parent / "instance"))
control_socket = str(_runtime / f"gunicorn-{os.getpid()}.ctl")
