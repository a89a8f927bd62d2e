"""The project's settings with a 1 s SQLite busy timeout, for the workers of
the locked-database test (support/locked_database.py says why)."""
from stackato_dash.settings import *  # noqa: F403 - the project's settings, one value changed

DATABASES["default"]["OPTIONS"]["timeout"] = 1  # noqa: F405 - from the star import
