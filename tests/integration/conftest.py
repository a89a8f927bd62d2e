"""Integration fixtures: one sandbox cluster per test session (real sshd,
dockerd, registry, Redis), with faults and the fence image reset between
tests so each test starts from the same cluster."""
import os
from pathlib import Path

import pytest

from support.sandbox import restore, running_sandbox

# Each cluster gets its own loopback range, so they never clash with each
# other, with a developer's `make demo` (127.0.0.11...) or the demo test.
# TEST_SANDBOX_ADDRESS lets two test runs share a machine.
MAIN_SANDBOX_ADDRESS = os.environ.get("TEST_SANDBOX_ADDRESS", "127.0.2.11")


@pytest.fixture(scope="session")
def sandbox_session():
    with running_sandbox(MAIN_SANDBOX_ADDRESS, dea_count=3, kato_version="3.0") as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(sandbox_session):
    yield sandbox_session
    restore(sandbox_session)


@pytest.fixture
def fleet(sandbox, settings):
    """The session sandbox as a Cluster in the console, host keys pinned."""
    from sandbox.register import register

    settings.SSH_PRIVATE_KEY_PATH = Path(sandbox["client_key"])
    settings.SSH_CONNECT_TIMEOUT = 3
    return register(Path(sandbox["state_dir"]), "sandbox")
