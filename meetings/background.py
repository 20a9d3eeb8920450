"""Work started by a request that must not wait for it (the media server may take seconds):
a thread with the app's context, whose failures are logged, and which tests and a clean
shutdown can wait for."""

import logging
import threading
from collections.abc import Callable

from flask import Flask, current_app

from meetings.extensions import db

log = logging.getLogger(__name__)

_threads: list[threading.Thread] = []
_lock = threading.Lock()


def run_in_background(name: str, work: Callable[..., None], *args) -> threading.Thread:
    """Call `work(*args)` in a thread, in this app's context, with its own database session."""
    app = current_app._get_current_object()  # the thread needs the app, not the proxy
    thread = threading.Thread(target=_run, args=(app, name, work, args), name=name, daemon=True)
    with _lock:
        _threads.append(thread)
    thread.start()
    return thread


def _run(app: Flask, name: str, work: Callable[..., None], args: tuple) -> None:
    with app.app_context():
        try:
            work(*args)
        except Exception:
            log.exception("%s failed", name)
        finally:
            db.session.remove()


def wait_for_background_work(timeout: float = 60) -> None:
    """Wait until the work started so far has ended (tests, a clean shutdown)."""
    with _lock:
        threads, _threads[:] = list(_threads), []
    for thread in threads:
        thread.join(timeout)
