"""HTTPS settings come from the environment (issue 12, found 8): with the
production values set, `manage.py check --deploy` is clean; with the
defaults the console still serves plain HTTP on loopback (the demo)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

PROJECT = Path(__file__).resolve().parents[2]

# What README's "Production" section tells an operator behind an HTTPS proxy to set.
PRODUCTION = {
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "ALLOWED_HOSTS": "console.example.org",
}


def manage(tmp_path, *argv, **env):
    # Not the test run's own settings, nor DJANGO_ALLOW_ASYNC_UNSAFE (the browser
    # tests set it for Playwright; check --deploy rightly refuses it).
    leave_out = ("SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", *PRODUCTION)
    environment = {k: v for k, v in os.environ.items() if k not in leave_out and not k.startswith("SECURE_")}
    environment.update(STACKATO_DASH_VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "manage.py", *argv], cwd=PROJECT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_production_settings(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_names_what_the_plain_http_defaults_leave_off(tmp_path):
    result = manage(tmp_path, "check", "--deploy")
    report = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in report, report


def test_a_malformed_proxy_header_is_refused_in_one_line(tmp_path):
    result = manage(tmp_path, "check", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be HEADER,VALUE" in result.stderr


@pytest.mark.django_db
def test_the_defaults_serve_the_login_page_over_plain_http():
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert not response.cookies["csrftoken"]["secure"]


@pytest.mark.django_db
def test_behind_the_proxy_http_is_redirected_and_https_served(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    plain = Client().get("/admin/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    proxied = Client().get("/admin/login/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200
    assert proxied.cookies["csrftoken"]["secure"]
    assert proxied["Strict-Transport-Security"].startswith("max-age=31536000")
