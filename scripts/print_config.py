"""Print the configuration the shell scripts need as shell assignments.

Values come from stackato_dash.settings itself (environment, then .env, then
the defaults), so a script never guesses a path or port differently from
the app. The demo's own knobs are read here too, after settings has loaded
.env into os.environ. Anything that would make us listen off loopback is
refused here, in one line.
"""
import ipaddress
import os
import shlex
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sandbox.layout import REGISTRY_PORT as SANDBOX_REGISTRY_PORT  # noqa: E402
from sandbox.registry_image import IMAGE as SANDBOX_REGISTRY_IMAGE  # noqa: E402
from stackato_dash import settings  # noqa: E402


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def loopback(host, what):
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        fail(f"{what} must be a loopback address (127.0.0.0/8), not {host!r}")
    # redis-server binds IP addresses, not names.
    return "127.0.0.1" if host == "localhost" else host


def positive_int(name, default, top=1000):
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= top:
        fail(f"{name} must be a whole number from 1 to {top}, not {raw!r}")
    return int(raw)


redis = urlsplit(settings.REDIS_URL)
if redis.scheme != "redis":
    # Not the URL itself: it carries the password.
    fail(f"REDIS_URL must be redis://:PASSWORD@127.0.0.1:PORT/DB, not a {redis.scheme or 'schemeless'}:// URL")
redis_password = unquote(redis.password or "")
# scripts/redis.sh writes it into redis-server's config as a quoted string.
if any(c.isspace() or c in "\"'\\" for c in redis_password):
    fail("REDIS_URL's password must not contain spaces, quotes or backslashes")

values = {
    "VAR_DIR": settings.VAR_DIR,
    "REDIS_HOST": loopback(redis.hostname or "127.0.0.1", "REDIS_URL's host"),
    "REDIS_PORT": redis.port or 6379,
    "REDIS_DB": (redis.path or "/0").strip("/") or "0",
    # For redis.sh (requirepass) and redis-cli (REDISCLI_AUTH): eval'd by lib.sh, never shown.
    "REDIS_PASSWORD": redis_password,
    "SANDBOX_DIR": settings.SANDBOX_DIR,
    "SANDBOX_BASE_ADDRESS": loopback(settings.SANDBOX_BASE_ADDRESS, "SANDBOX_BASE_ADDRESS"),
    "WEB_HOST": "127.0.0.1",
    "WEB_PORT": positive_int("DEMO_WEB_PORT", 8000, top=65535),
    "WORKERS": positive_int("DEMO_WORKERS", 4),
    "DEA_NODES": positive_int("DEMO_DEA_NODES", 3),
    "KATO_VERSION": os.environ.get("DEMO_KATO_VERSION", ""),
    "ADMIN_USER": os.environ.get("DEMO_ADMIN_USER", "admin"),
    "STOP_TIMEOUT": positive_int("DEMO_STOP_TIMEOUT", 30, top=3600),
    # The demo builds and pushes on its own sandbox's Core node engine, reached
    # over the console's SSH session (nothing runs a Docker daemon on the
    # host's default socket), unless BUILD_DOCKER_HOST is set (environment or .env).
    "BUILD_DOCKER_HOST": os.environ.get("BUILD_DOCKER_HOST") or f"ssh-node:{settings.SANDBOX_BASE_ADDRESS}",
    # "Provision registry" runs this image on the sandbox's Core: the default
    # (registry:2) cannot be pulled offline; `sandbox up` imports this one.
    "REGISTRY_IMAGE": os.environ.get("REGISTRY_IMAGE") or SANDBOX_REGISTRY_IMAGE,
    # The sandbox's registry (and the one "Provision registry" runs there) speaks
    # plain HTTP on its Core's port 5000: declared insecure, as an operator
    # would, unless INSECURE_REGISTRIES is set (environment or .env).
    "INSECURE_REGISTRIES": os.environ.get("INSECURE_REGISTRIES")
    or f"{settings.SANDBOX_BASE_ADDRESS}:{SANDBOX_REGISTRY_PORT}",
}
for name, value in values.items():
    print(f"{name}={shlex.quote(str(value))}")
