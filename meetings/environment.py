"""Which settings an app started without MEETINGS_ENV gets (read before config.py is)."""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def environment_name() -> str:
    """MEETINGS_ENV, or where it is unset: development in a checkout that `make run` set up
    (it wrote instance/dev.env), production anywhere else. An app that any server starts
    without saying which it is gets the strict settings, never the development ones."""
    name = os.environ.get("MEETINGS_ENV", "")
    if name:
        return name
    instance_dir = Path(os.environ.get("INSTANCE_DIR", PROJECT_DIR / "instance"))
    return "development" if (instance_dir / "dev.env").exists() else "production"
