"""SECRET_KEY: generated once into var/ when unset, private, never regenerated."""
import os
import stat
import subprocess
import sys
from pathlib import Path

from stackato_dash.secret_key import load_or_create_secret_key

PROJECT = Path(__file__).resolve().parents[2]


def test_generated_once_private_and_reused(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = load_or_create_secret_key(path)
    assert len(first) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret_key(path) == first


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
