"""Settings, read only from the environment (django-environ).

Every variable is documented in .env.example. A .env file beside manage.py is
read if present; real environment variables win over it.
"""
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from stackato_dash import insecure_registries
from stackato_dash.secret_key import load_or_create_redis_password, load_or_create_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Everything the app writes at run time (SQLite file, secret key, sandbox).
VAR_DIR = Path(env.str("STACKATO_DASH_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env.str("SECRET_KEY", default="") or load_or_create_secret_key(VAR_DIR / "secret_key")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS. The defaults serve plain HTTP on loopback (the demo); production runs
# behind an HTTPS proxy and sets these (.env.example, README: Production).
# The header the proxy sets to say the request came in over HTTPS, as
# "HTTP_X_FORWARDED_PROTO,https"; only with a proxy that always sets or
# overwrites it, or a client could claim HTTPS.
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be HEADER,VALUE, e.g. HTTP_X_FORWARDED_PROTO,https")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) or None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

INSTALLED_APPS = [
    # The admin with the console's home page (stackato_dash/admin_site.py).
    "stackato_dash.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "nodes",
    "images",
    # One lifecycle row per RQ job, and the reconciler (job_runs/).
    "job_runs",
    # Rollout events to webhooks and mail, and their delivery log (notifications/).
    "notifications",
    "sandbox",
    # Login brute-force limit (AXES_* below).
    "axes",
    # The token API under /api/ (api/): Django REST framework, knox tokens
    # (only a digest is stored), the OpenAPI schema and its Swagger UI served
    # from the sidecar package (no CDN).
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with AXES_LOCKOUT_TEMPLATE.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "stackato_dash.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "stackato_dash.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A pool of RQ workers writes beside the web server: WAL lets readers
    # run during a write, the timeout makes writers wait instead of failing
    # with "database is locked", and IMMEDIATE takes the write lock at BEGIN
    # so two writers cannot deadlock upgrading read locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # A file, not Django's in-memory default, so RQ workers started by
    # integration tests see the same test database.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(VAR_DIR / "test-db.sqlite3"))

# RQ's broker. Unset: the Redis scripts/redis.sh starts on 127.0.0.1:6379,
# with a password generated once into var/redis_password (0600). Anyone who
# can write to this Redis decides what the workers (which hold the fleet's
# SSH key) run, so a REDIS_URL given here carries its password too
# (redis://:PASSWORD@host:port/db), and scripts/redis.sh refuses one without.
REDIS_URL = env.str("REDIS_URL", default="") or (
    f"redis://:{load_or_create_redis_password(VAR_DIR / 'redis_password')}@127.0.0.1:6379/0")
# "default": builds, pushes, rollouts and their steps; "notifications": the
# rollout notifications (webhooks, mail), run by workers of their own, so a
# hanging webhook never holds a worker a rollout step waits for
# (stackato_dash/queueing.py, README: Running the workers).
RQ_QUEUES = {
    name: {
        "URL": REDIS_URL,
        "DEFAULT_TIMEOUT": env.int("RQ_DEFAULT_TIMEOUT", default=3600),
        # Jobs are stored as JSON, never pickles (jobs take primary keys only).
        "SERIALIZER": "rq.serializers.JSONSerializer",
    }
    for name in ("default", "notifications")
}
# Every worker reads jobs as JSON whatever its command line says
# (`rqworker --serializer` defaults to pickle): a pickle pushed into Redis
# fails to load instead of running code (stackato_dash/rq_worker.py).
RQ = {"WORKER_CLASS": "stackato_dash.rq_worker.JSONWorker"}
# Seconds between a worker's heartbeats for the job it runs (RQ's job
# monitoring interval). The job reconciler tells a long job (still beating)
# from a lost one (no beat for 3 of them) by it (job_runs/reconciler.py).
RQ_JOB_HEARTBEAT = env.int("RQ_JOB_HEARTBEAT", default=10)
# Seconds a worker's registration lives past its last heartbeat, less RQ's
# fixed 60. RQ's own 420 kept a SIGKILLed worker (OOM killer) listed for
# 8 minutes, and the console queued jobs "to it"; with 30 an idle worker
# beats every 15 s and a dead one leaves the list within 90 s.
RQ_WORKER_TTL = env.int("RQ_WORKER_TTL", default=30)
# Adds a "Django RQ" link to the admin index, so operators find the queues.
RQ_SHOW_ADMIN_LINK = True
# /metrics (Prometheus): with a token, a scrape must send it as
# "Authorization: Bearer <token>"; empty, only loopback scrapers are answered
# (behind a reverse proxy on this machine every request is loopback: set it).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Rollout notifications (notifications/): seconds between the retries of a
# failed delivery (RQ Retry: one retry per value; empty: no retry), and the
# HTTP timeout of one webhook POST. A webhook's signing secret is read from
# the environment variable the webhook names, never from the database.
NOTIFY_RETRY_INTERVALS = env.list("NOTIFY_RETRY_INTERVALS", cast=int, default=[10, 60, 300])
NOTIFY_TIMEOUT = env.float("NOTIFY_TIMEOUT", default=10.0)
# Mail through Django's mail settings (SMTP by default).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="stackato_dash@localhost")

# The dashboard's SSH identity. Only the path is configuration; the key
# itself never enters the database, a job argument or a log line.
SSH_PRIVATE_KEY_PATH = Path(env.str("SSH_PRIVATE_KEY_PATH", default=str(VAR_DIR / "ssh" / "id_ed25519")))

# Seconds to wait for a node's SSH handshake, and for one remote command.
SSH_CONNECT_TIMEOUT = env.float("SSH_CONNECT_TIMEOUT", default=10.0)
SSH_COMMAND_TIMEOUT = env.float("SSH_COMMAND_TIMEOUT", default=120.0)
# Use the SSH agent (SSH_AUTH_SOCK) instead of the key file.
SSH_USE_AGENT = env.bool("SSH_USE_AGENT", default=False)
# Seconds a rollout step's `docker pull` (or `docker load` of a streamed
# image) may take on a node: bounded by the image's size and the link, not
# by SSH_COMMAND_TIMEOUT. A step's RQ job timeout grows with it
# (images/rollouts/jobs.py).
DOCKER_PULL_TIMEOUT = env.float("DOCKER_PULL_TIMEOUT", default=300.0)
# supervisord's XML-RPC login on the nodes (inet_http_server on port 9001),
# sent (HTTP basic) only when both are set. Never logged, never in a job.
SUPERVISOR_USERNAME = env.str("SUPERVISOR_USERNAME", default="")
SUPERVISOR_PASSWORD = env.str("SUPERVISOR_PASSWORD", default="")

# The Docker engine that builds and pushes image versions (images/engine.py):
# unix:///path/docker.sock, tcp://127.0.0.1:2375 (plain TCP, no TLS), or
# ssh-node:<node address> for that node's engine over its pinned SSH session.
BUILD_DOCKER_HOST = env.str("BUILD_DOCKER_HOST", default="unix:///var/run/docker.sock")
# Seconds a call to the build engine may stay silent (a long RUN step prints nothing).
BUILD_TIMEOUT = env.int("BUILD_TIMEOUT", default=1800)
# Seconds to wait for a cluster registry's answer (v2 API).
REGISTRY_TIMEOUT = env.float("REGISTRY_TIMEOUT", default=5.0)
# Registries the console speaks plain HTTP to, as Docker's insecure-registries:
# host:port entries or address ranges (10.0.0.0/24). Every other registry is
# spoken to over HTTPS only (images/registry.py); a failed TLS handshake is an error.
try:
    INSECURE_REGISTRIES = insecure_registries.parse(env.list("INSECURE_REGISTRIES", default=[]))
except ValueError as error:
    raise ImproperlyConfigured(f"INSECURE_REGISTRIES: {error}") from None
# The image "Provision registry" runs on a cluster's Core node (the seed's
# registry procedure); pulled there only if its engine lacks it. The sandbox
# makes one offline: stackato-dash/sandbox-registry:2.8 (sandbox/README.md).
REGISTRY_IMAGE = env.str("REGISTRY_IMAGE", default="registry:2")

# The local sandbox cluster (sandbox/README.md).
SANDBOX_DIR = Path(env.str("SANDBOX_DIR", default=str(VAR_DIR / "sandbox")))
SANDBOX_BASE_ADDRESS = env.str("SANDBOX_BASE_ADDRESS", default="127.0.0.11")
SANDBOX_SSH_PORT = env.int("SANDBOX_SSH_PORT", default=2222)

# Login brute force (django-axes): after AXES_FAILURE_LIMIT failed logins from
# one IP address, or for one username, further logins from that address / for
# that user are refused for AXES_COOLOFF_HOURS (the admin's login page says
# so). Counted from REMOTE_ADDR only, which a client cannot forge (behind a
# proxy that is the proxy's address: see README, Production). A superuser
# unlocks early with `manage.py axes_reset_username USER` / `axes_reset_ip IP`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/login_locked_out.html"
# Not verbose: its startup line ("AXES: BEGIN version ...") went to stderr on
# every manage.py command, where `manage.py rollout` and `image` print the
# reason a script reads. Lockouts and failed logins are still logged.
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The console's own scripts and styles (rollout page polling); no CDN.
STATICFILES_DIRS = [BASE_DIR / "stackato_dash" / "static"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The API (api/, README: API). Token authentication only: no session, so no
# CSRF question and no browser cookie can act through it. A token is stored
# as its SHA-512 digest (knox), shown once, revocable, and always expires:
# after API_TOKEN_MAX_DAYS at most (its owner picks fewer when making it).
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["knox.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ConsoleRole"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pages",
    "PAGE_SIZE": 100,
}
REST_KNOX = {
    "TOKEN_TTL": None,  # set per token when it is made (api/token_admin.py)
    "AUTH_HEADER_PREFIX": "Token",
    # Recognisable in a leaked log or a repository (secret scanners).
    "TOKEN_PREFIX": "sdash_",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "stackato_dash API",
    "DESCRIPTION": "The console's operations for pipelines: clusters, nodes, image versions, rollouts, promotions "
                   "and the fence restart audit. Send `Authorization: Token <token>`; make a token in the console "
                   "(API tokens). Each call needs the same permission as in the console.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets used under one field name in several places: one name each in the schema.
    "ENUM_NAME_OVERRIDES": {"ImageVersionStatus": "images.models.status.Status",
                            "RolloutStatus": "images.models.rollout.RolloutStatus",
                            "StepStatus": "images.models.rollout.StepStatus",
                            "GateDecision": "images.models.rollout.GateDecision",
                            "RunStatus": "job_runs.models.RunStatus"},
}
