"""Secrets generated once into var/ (the SECRET_KEY, the Redis password), so a
new install needs no setup and no secret is ever committed."""
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.core.management.utils import get_random_secret_key


class EmptySecretFile(RuntimeError):
    """The secret file exists but holds nothing (left by an older version's race)."""


def _read(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise EmptySecretFile(f"{path} is empty; delete it so a new secret is generated")
    return value


def load_or_create_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret in `path`, made by `make()` and written there if absent.

    Processes starting at the same moment must all get the same, complete
    value: the secret is written in full to a private temporary file beside
    `path`, then hard-linked to `path`. A link never replaces an existing
    name, so the first process wins, the others read its file, and `path`
    never names a file that is still being written (O_EXCL on the final name
    would: a second process could read it empty between create and write).
    """
    path = Path(path)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    # mkstemp creates the file 0600, readable by this user only.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(value)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read(path)
    finally:
        os.unlink(temporary)
    return value


def load_or_create_secret_key(path: Path) -> str:
    return load_or_create_secret(path, get_random_secret_key)


def load_or_create_redis_password(path: Path) -> str:
    # URL-safe characters only: it goes into REDIS_URL and redis.conf unquoted.
    return load_or_create_secret(path, lambda: secrets.token_urlsafe(32))
