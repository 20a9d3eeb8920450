"""Entry point for gunicorn (`wsgi:app`) and the `flask --app wsgi` CLI."""

import os
from pathlib import Path

from dotenv import load_dotenv

from meetings.environment import environment_name

CONFIG_NAME = environment_name()
if CONFIG_NAME == "development":
    # Keys that `make run` generated once for the local LiveKit server; read before the
    # config classes are built so that they see them.
    instance_dir = Path(os.environ.get("INSTANCE_DIR", Path(__file__).parent / "instance"))
    load_dotenv(instance_dir / "dev.env", override=False)

from config import CONFIGS  # noqa: E402
from meetings import create_app  # noqa: E402

app = create_app(CONFIGS[CONFIG_NAME])
