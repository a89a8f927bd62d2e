#!/usr/bin/env bash
# `make test`: install what is missing (as for the demo, plus PostgreSQL and chromium),
# run the lint (ruff), start the Redis and PostgreSQL the tests need, then run the whole suite
# (tests/unit, tests/integration, tests/browser) with pytest on SQLite, then
# again on PostgreSQL: the unit tests that use the database, and of the slow
# sandbox tests only those marked `postgresql` (one full rollout, recovery,
# write-ahead audit: row locks and audit triggers, where PostgreSQL differs;
# pytest.ini). Fails if either run fails or runs no test (exit 5).
# Both runs use pytest-xdist (TEST_WORKERS processes, --dist loadgroup): the
# sandbox tests mostly wait on SSH, supervisord and docker, so workers overlap
# those waits; each worker has its own sandbox addresses, Redis database and
# test database, and all tests on one sandbox share a worker (tests/conftest.py).
# Test state lives in var/test/ (TEST_VAR_DIR), apart from a running demo's.
# Configured by: TEST_REDIS_PORT (6380), TEST_PG_USER/TEST_PG_DB
# (stackato_dash), ARTIFACTS_DIR (browser screenshots; printed at the end),
# TEST_WORKERS (3; 0 runs in one process), PYTEST_ARGS (pytest arguments
# instead of "tests", e.g. "-x tests/unit").
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_root test
need_apt
# chromium: the browser tests drive Debian's (never a Playwright download).
bash "$REPO_DIR/scripts/install.sh" postgresql chromium

# Exported before load_config so the scripts and the tests agree on them;
# real environment variables win over .env for the settings too.
export STACKATO_DASH_VAR_DIR="${TEST_VAR_DIR:-$REPO_DIR/var/test}"
# The tests' Redis requires a password like the demo's: generated once into
# the test var dir (0600) by the app's own code, carried by REDIS_URL, never printed.
redis_password="$(cd "$REPO_DIR" && "$PY" -c 'import sys; from stackato_dash.secret_key import load_or_create_redis_password as f; print(f(sys.argv[1]))' "$STACKATO_DASH_VAR_DIR/redis_password")" \
    || die "could not create $STACKATO_DASH_VAR_DIR/redis_password"
export REDIS_URL="redis://:$redis_password@127.0.0.1:${TEST_REDIS_PORT:-6380}/0"
# Where tests/browser saves its screenshots (tests/browser/conftest.py).
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$STACKATO_DASH_VAR_DIR/artifacts}"
load_config
cd "$REPO_DIR"

# The lint first, before any service starts: ruff with its default rules and
# bandit's security rules (ruff.toml). A finding is fixed, or annotated on its
# line with `# noqa: Sxxx  reason` (or in ruff.toml with a comment why).
say "ruff check (ruff.toml)"
"$VENV/bin/ruff" check --no-cache . </dev/null \
    || die "ruff found problems (listed above): fix them, or annotate each with its reason"

# What this script starts, it stops, however it ends.
cleanup() {
    bash "$REPO_DIR/scripts/redis.sh" stop >/dev/null || true
    bash "$REPO_DIR/scripts/postgres.sh" stop || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$REPO_DIR/scripts/redis.sh" start
bash "$REPO_DIR/scripts/postgres.sh" start
pg_url="$(bash "$REPO_DIR/scripts/postgres.sh" url)"

# One run per database. Exit 5 (no test collected) counts as a failure: a
# suite that silently runs nothing must not pass.
results=()
failed=0
workers=()
if [ "${TEST_WORKERS:-3}" != 0 ]; then
    workers=(-n "${TEST_WORKERS:-3}" --dist loadgroup)
fi
run_suite() {  # label DATABASE_URL TEST_POSTGRESQL_PASS
    local rc=0
    say "pytest on $1"
    # PYTEST_ARGS is split on spaces on purpose: it holds several arguments.
    DATABASE_URL="$2" TEST_POSTGRESQL_PASS="$3" "$PY" -m pytest "${workers[@]}" --durations=15 ${PYTEST_ARGS:-tests} </dev/null || rc=$?
    case "$rc" in
        0) results+=("$1 ok") ;;
        5) results+=("$1 FAILED (no tests were collected)"); failed=1 ;;
        *) results+=("$1 FAILED (pytest exit $rc)"); failed=1 ;;
    esac
}
run_suite SQLite "sqlite:///$VAR_DIR/db.sqlite3" 0
# Every test ran above; on PostgreSQL the unit tests that use the database
# and the sandbox tests marked `postgresql` run again (tests/conftest.py).
run_suite PostgreSQL "$pg_url" 1

summary="$(printf '%s; ' "${results[@]}")"
say "results: ${summary%; }"
say "screenshots: $ARTIFACTS_DIR/screenshots"
exit "$failed"
