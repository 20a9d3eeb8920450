"""Extension instances, bound to an app in `create_app`."""

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
compress = Compress()
# Limits are declared on the views that need them; storage comes from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=get_remote_address)

# INSERT with ON CONFLICT, for each database the app runs on (the generic insert has none).
INSERT_ON_CONFLICT = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


def insert_on_conflict(table):
    """An INSERT into `table` that can say ON CONFLICT, for the database in use."""
    return INSERT_ON_CONFLICT[db.engine.dialect.name](table)
