"""Fixtures for the integration tier."""

from collections.abc import Iterator

import pytest

from tests.support.app_process import AppProcess, empty_database


@pytest.fixture
def app_process(postgres, tmp_path) -> Iterator[AppProcess]:
    """The app as production runs it (gunicorn, migrated database), started for one test."""
    process = AppProcess(
        empty_database(postgres, tmp_path, "gunicorn_app"), tmp_path / "gunicorn.log"
    )
    process.migrate()
    process.start()
    yield process
    process.stop()
