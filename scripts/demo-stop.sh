#!/usr/bin/env bash
# `make demo-stop` (and the demo's Ctrl-C): stop everything `make demo`
# started, by the pids in $VAR_DIR/run/, newest first: the web server (no
# new jobs), the worker pools (a job in flight may finish), the sandbox
# cluster, Redis. Anything not running is skipped, so it is safe to repeat.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_root demo-stop
if [ ! -x "$PY" ]; then
    say "no virtualenv, so no demo was started; nothing to stop"
    exit 0
fi
load_config
cd "$REPO_DIR"

# Tells a running demo.sh that this stop is deliberate, not a crash.
touch "$RUN_DIR/stopping"
trap 'rm -f "$RUN_DIR/stopping"' EXIT

rc=0
stop_pidfile "$RUN_DIR/web.pid" runserver "web server" 10
# Workers finish the job they hold on TERM (warm shutdown); past the wait
# they are killed, and the job's row records how far it got.
stop_pidfile "$RUN_DIR/rqworker-pool.pid" rqworker-pool "RQ worker pool" "$STOP_TIMEOUT"
stop_pidfile "$RUN_DIR/rqworker-notifications.pid" "rqworker-pool.*notifications" "notifications worker pool" "$STOP_TIMEOUT"
if [ -e "$RUN_DIR/sandbox.up" ]; then
    say "stopping the sandbox cluster"
    if "$PY" manage.py sandbox down </dev/null >>"$LOG_DIR/sandbox.log" 2>&1; then
        rm -f "$RUN_DIR/sandbox.up"
    else
        say "sandbox down failed: $(error_line "$LOG_DIR/sandbox.log") (log: $LOG_DIR/sandbox.log)" >&2
        rc=1
    fi
fi
bash "$REPO_DIR/scripts/redis.sh" stop
exit "$rc"
