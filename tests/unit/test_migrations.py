"""The migrations build exactly the schema the models describe (a model change without a
migration would break every existing installation at its next upgrade)."""

import flask_migrate

from config import TestingConfig
from meetings import create_app


def test_migrations_match_the_models(tmp_path):
    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"})
    with app.app_context():
        flask_migrate.upgrade()
        try:
            flask_migrate.check()  # exits with status 1 when autogenerate finds a difference
        except SystemExit as exit_:
            raise AssertionError("models and migrations differ: see the log above") from exit_
