"""SECRET_KEY: generated once into var/ when unset, private, never regenerated."""
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from stackato_dash.secret_key import EmptySecretFile, load_or_create_secret_key

PROJECT = Path(__file__).resolve().parents[2]


def test_generated_once_private_and_reused(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = load_or_create_secret_key(path)
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret_key(path) == first


def _load_at_the_barrier(path, barrier, results):
    barrier.wait()
    try:
        results.put(load_or_create_secret_key(path))
    except Exception as error:  # noqa: BLE001 - reported to the test process as the value
        results.put(f"error: {error!r}")


def test_processes_starting_together_all_read_the_same_complete_key(tmp_path):
    """Eight processes released at once by a barrier, thirty times: every one
    gets the same non-empty key, the one the file holds. (The old O_EXCL
    create-then-write let a second process read the file empty.)"""
    context = multiprocessing.get_context("fork")
    for attempt in range(30):
        path = tmp_path / str(attempt) / "secret_key"
        barrier, results = context.Barrier(8), context.Queue()
        processes = [context.Process(target=_load_at_the_barrier, args=(path, barrier, results)) for _ in range(8)]
        for process in processes:
            process.start()
        keys = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        assert len(set(keys)) == 1, f"attempt {attempt}: the processes got different keys: {keys}"
        assert len(keys[0]) >= 50, f"attempt {attempt}: {keys[0]!r}"
        assert path.read_text() == keys[0]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert [f.name for f in path.parent.iterdir()] == ["secret_key"], "a temporary file was left behind"


def test_an_empty_key_file_is_refused_not_used(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("")
    with pytest.raises(EmptySecretFile, match="delete it"):
        load_or_create_secret_key(path)


def _settings_value(tmp_path, name, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    environment.update(STACKATO_DASH_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="stackato_dash.settings", **env)
    code = f"from django.conf import settings; print(settings.{name})"
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=environment,
                          check=True, capture_output=True, text=True).stdout.strip()


def test_settings_take_the_environment_first(tmp_path):
    assert _settings_value(tmp_path, "SECRET_KEY", SECRET_KEY="from-the-environment") == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    generated = _settings_value(tmp_path, "SECRET_KEY")
    assert generated == (tmp_path / "secret_key").read_text()


def test_database_url_selects_postgresql(tmp_path):
    engine = _settings_value(tmp_path, "DATABASES['default']['ENGINE']",
                             DATABASE_URL="postgres://dash:pw@127.0.0.1:5432/dash")
    assert engine == "django.db.backends.postgresql"
    assert _settings_value(tmp_path, "DATABASES['default']['ENGINE']") == "django.db.backends.sqlite3"
