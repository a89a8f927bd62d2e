"""Suite-wide pytest hooks and fixtures."""
import os

import pytest
from _pytest.nodeid import NodeId
from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations
from django.test import TestCase, TransactionTestCase

from images import rollout_event_triggers
from nodes import audit_triggers
from support import migration_data, xdist_worker

# Under pytest-xdist, this worker's own sandbox addresses and Redis database,
# set before the sandbox fixtures below read them.
xdist_worker.isolate()

# Every registry the suite starts (the sandboxes', the provisioned container,
# the small servers of unit tests) speaks plain HTTP on loopback: declared
# insecure as an operator would (README: Configuration), here and for the
# rqworkers and demo the tests start. Settings were read before this file
# (pytest-django first); tests of HTTPS registries override it.
os.environ["INSECURE_REGISTRIES"] = "127.0.0.0/8"
settings.INSECURE_REGISTRIES = ["127.0.0.0/8"]

# The rollout sandbox and worker fixtures, shared by tests/integration and tests/browser.
pytest_plugins = ["support.rollout_sandbox", "support.job_runs"]

_execute_sql_flush = BaseDatabaseOperations.execute_sql_flush


def _flush_past_audit_triggers(self, sql_list):
    """Transactional tests empty the test database after each test; on SQLite
    that is DELETE FROM, which the audit's triggers refuse (as they should in
    production). Only here, around the flush, they are dropped and put back.
    PostgreSQL empties with TRUNCATE, which the triggers do not cover."""
    for triggers in (audit_triggers, rollout_event_triggers):  # the rollout events are append-only too
        if self.connection.vendor == "sqlite" and any(triggers.TABLE in sql for sql in sql_list):
            sql_list = [*triggers.SQLITE_DROP, *sql_list, *triggers.SQLITE_CREATE]
    return _execute_sql_flush(self, sql_list)


BaseDatabaseOperations.execute_sql_flush = _flush_past_audit_triggers


_transactional_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown_keeping_migration_data(self):
    if not isinstance(self, TestCase):
        for alias in self._databases_names(include_mirrors=False):
            migration_data.remember_role_permissions(alias)
    _transactional_teardown(self)
    if not isinstance(self, TestCase):  # a TestCase rolls back: nothing was flushed
        for alias in self._databases_names(include_mirrors=False):
            migration_data.restore(alias)


TransactionTestCase._fixture_teardown = _fixture_teardown_keeping_migration_data

DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server", "admin_client", "admin_user", "django_user_model"}

# Session fixtures that start something slow (sandboxes, dockerd): under
# `--dist loadgroup` (scripts/test.sh) every test using one goes to the same
# xdist worker, so each starts once, not once per worker. The first one a
# test uses names its group.
SHARED_SESSION_FIXTURES = {"rollout_sandbox_session": "rollout-sandbox", "sandbox_session": "sandbox",
                           "dockerd": "nodeside", "redis_server": "nodeside"}


GOVERNANCE_TESTS = {"test_approval_and_windows", "test_pause_and_gate", "test_api_pipeline", "test_governance"}


def is_unit(item) -> bool:
    return item.nodeid.startswith("tests/unit/")


def xdist_group(item) -> str | None:
    names = set(getattr(item, "fixturenames", ()))
    for fixture, group in SHARED_SESSION_FIXTURES.items():
        if fixture in names:
            # The rollout sandbox's tests are the longest chain of the suite:
            # the fault matrix and the governance tests are groups of their
            # own, which may run on other workers, each of which starts its own
            # rollout sandbox on its own addresses.
            if group == "rollout-sandbox" and item.path.stem.startswith("test_fault_matrix"):
                return "rollout-sandbox-faults"
            if group == "rollout-sandbox" and item.path.stem in GOVERNANCE_TESTS:
                return "rollout-sandbox-governance"
            return group
    # Module-scoped sandboxes on fixed addresses (test_sandbox_versions.py,
    # test_reload_mode.py, test_demo.py): a module stays on one worker.
    if not is_unit(item):
        return item.path.stem
    return None  # unit tests go wherever a worker is free


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups from the markers
def pytest_collection_modifyitems(config, items):
    """With TEST_POSTGRESQL_PASS=1 (the second, PostgreSQL run of `make test`)
    keep only the unit tests that use the database, and the integration and
    browser tests marked `postgresql` (pytest.ini says which and why): every
    other test already ran once on SQLite, and its sandbox, SSH and kato
    work does not depend on the database."""
    for item in items:
        group = xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
            if getattr(config.option, "loadgroup", False) and not item.nodeid.endswith("@" + group):
                # What xdist 3.8 does with the mark, for pytest 9.2: the
                # controller groups by the "@group" suffix of the nodeid, and
                # pytest 9.2 builds nodeid from _id, not the _nodeid xdist sets.
                item._id = NodeId.parse(f"{item.nodeid}@{group}")
    if os.environ.get("TEST_POSTGRESQL_PASS") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") or DB_FIXTURES & set(getattr(item, "fixturenames", ()))
        (keep if uses_db and (is_unit(item) or item.get_closest_marker("postgresql")) else drop).append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = keep


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Logging in test users need not cost a real password hash each time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
