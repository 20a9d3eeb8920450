"""What the numbers were taken on."""

import os
import platform
import subprocess
import sys
from pathlib import Path


def describe(stack) -> dict:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "livekit_server": livekit_version(stack.livekit.binary),
        "database": "SQLite (file, migrated by flask db upgrade)",
        "gunicorn": f"{stack.app_process.workers} workers x {stack.app_process.threads} threads",
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def livekit_version(binary: Path) -> str:
    try:
        command = [str(binary), "--version"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)  # noqa: S603
        return (done.stdout or done.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
