"""What one pytest-xdist worker (scripts/test.sh runs the SQLite pass with
`-n`) must not share with the others, moved apart from tests/conftest.py
before any fixture reads it:
- its sandboxes: on a loopback range of its own (the second octet is 1 + the
  worker's number, so 127.1.x for gw0, 127.2.x for gw1; the fixed-address
  tests and `make demo` stay on 127.0.x);
- its Redis database (1 + its number): RQ's queues, registries, worker list
  and the reconciler's chain key live per database, so one worker's
  `queue.empty()` or `flushdb()` never touches another's jobs;
- its test database: pytest-django already suffixes it with the worker id
  (test-db.sqlite3_gw0, test_stackato_dash_gw0).
Without xdist (PYTEST_XDIST_WORKER unset) nothing changes."""
import os
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

# The sandbox fixtures' variables and their defaults (tests/integration/conftest.py,
# support/rollout_sandbox.py).
SANDBOX_ADDRESSES = {"TEST_SANDBOX_ADDRESS": "127.0.2.11", "TEST_ROLLOUT_SANDBOX_ADDRESS": "127.0.9.11"}
REDIS_DATABASES = 16  # redis-server's default `databases`


def worker_number() -> int | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    return int(worker[2:]) if worker.startswith("gw") else None


def moved_address(address: str, number: int) -> str:
    first, second, third, fourth = address.split(".")
    return f"{first}.{int(second) + 1 + number}.{third}.{fourth}"


def redis_url_for(url: str, number: int) -> str:
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + 1 + number
    if database >= REDIS_DATABASES:
        raise RuntimeError(f"xdist worker gw{number} would need Redis database {database}: use fewer workers")
    return urlunsplit(parts._replace(path=f"/{database}"))


def isolate() -> None:
    number = worker_number()
    if number is None:
        return
    for variable, default in SANDBOX_ADDRESSES.items():
        os.environ[variable] = moved_address(os.environ.get(variable, default), number)
    url = redis_url_for(settings.REDIS_URL, number)
    # Settings were read before any conftest (pytest-django sets Django up
    # first); the environment is for the rqworker processes tests start.
    os.environ["REDIS_URL"] = url
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {name: {**queue, "URL": url} for name, queue in settings.RQ_QUEUES.items()}
