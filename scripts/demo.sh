#!/usr/bin/env bash
# `make demo`: install what is missing, migrate, then start Redis, a pool of
# RQ workers, the sandbox cluster (Core + DEA nodes) and the web server, all
# on loopback; make an admin user; print the URL and credentials; stay in
# the foreground until Ctrl-C (or `make demo-stop`) stops everything.
# A second run reuses what exists: venv, database, user, running services.
# Configured by the environment or .env (see .env.example): DEMO_WEB_PORT,
# DEMO_WORKERS, DEMO_DEA_NODES, DEMO_KATO_VERSION, DEMO_ADMIN_USER, REDIS_URL,
# STACKATO_DASH_VAR_DIR, SANDBOX_* and the app's own settings (BUILD_DOCKER_HOST
# defaults to the sandbox Core node's engine, ssh-node:$SANDBOX_BASE_ADDRESS;
# REGISTRY_IMAGE to the sandbox's offline registry image).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_root demo
need_apt
bash "$REPO_DIR/scripts/install.sh"
load_config
cd "$REPO_DIR"

web_pidfile="$RUN_DIR/web.pid"
pool_pidfile="$RUN_DIR/rqworker-pool.pid"
notify_pidfile="$RUN_DIR/rqworker-notifications.pid"
redis_pidfile="$RUN_DIR/redis.pid"
password_file="$VAR_DIR/admin_password"
setup_log="$LOG_DIR/demo.log"

# Ports are checked before anything starts, so a clash costs nothing to undo.
# A port held by our own running service (live pidfile) is that service.
live_pid "$web_pidfile" runserver >/dev/null || port_free "$WEB_HOST" "$WEB_PORT" "web server, DEMO_WEB_PORT"
live_pid "$redis_pidfile" redis-server >/dev/null || port_free "$REDIS_HOST" "$REDIS_PORT" "Redis, REDIS_URL"

# Whatever fails from here on, stop what this run started rather than leave
# half a demo running.
running=""
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ] && [ -z "$running" ]; then
        say "stopping what was started"
        bash "$REPO_DIR/scripts/demo-stop.sh" >&2 || true
    fi
}
trap on_exit EXIT
# A signal must end us with a non-zero status, so on_exit cleans up.
trap 'exit 130' INT
trap 'exit 143' TERM HUP
# A stop marker left by a demo-stop that was killed would make us exit at once.
rm -f "$RUN_DIR/stopping"

say "migrating the database (log: $setup_log)"
"$PY" manage.py migrate --noinput >>"$setup_log" 2>&1 || die "migrate failed: $(error_line "$setup_log") (log: $setup_log)"

# The admin password is made once and kept, readable by root only.
if [ ! -s "$password_file" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$password_file")
fi
chmod 600 "$password_file"
"$PY" scripts/demo_admin.py "$ADMIN_USER" "$password_file" >>"$setup_log" 2>&1 \
    || die "could not create the admin user: $(error_line "$setup_log") (log: $setup_log)"

bash "$REPO_DIR/scripts/redis.sh" start

# Builds and pushes run on the sandbox's Core node engine over SSH
# (ssh-node:$SANDBOX_BASE_ADDRESS) unless BUILD_DOCKER_HOST is set: the web
# server (plan pages) and the workers (the jobs) must agree, so both inherit
# it. The workers start before the sandbox; they look the node up per job.
export BUILD_DOCKER_HOST
say "builds and pushes run on $BUILD_DOCKER_HOST"
# "Provision registry" runs REGISTRY_IMAGE on the Core's engine, which cannot
# pull here: the sandbox's offline image unless REGISTRY_IMAGE is set. The
# sandbox's own registry already serves on the Core's port 5000, so
# provisioning records that one; stop it (`manage.py sandbox fault registry
# down`) to see the container run instead.
export REGISTRY_IMAGE
# That registry speaks plain HTTP: the web server and the workers speak HTTP
# to it only because it is declared insecure (print_config.py: the sandbox
# Core's port 5000 unless INSECURE_REGISTRIES is set).
export INSECURE_REGISTRIES
say "registries declared insecure (plain HTTP): $INSECURE_REGISTRIES"

# Services run in their own session (setsid): a Ctrl-C in the terminal
# reaches only this script, which stops them in order, and each one's pid is
# its process group, so stopping it also reaps its children.
start_service() {  # pidfile name logfile command...
    local pidfile="$1" name="$2" log="$3"
    shift 3
    setsid "$@" </dev/null >>"$log" 2>&1 &
    echo $! >"$pidfile"
    say "started $name (pid $!, log: $log)"
}

# One RQ worker runs one job at a time: the pool's size is the number of
# node jobs the demo can have in flight.
if pid="$(live_pid "$pool_pidfile" rqworker-pool)"; then
    say "RQ worker pool already running (pid $pid)"
else
    # Jobs whose worker died with the last demo end or go on now (the pool's
    # workers then run the reconciler every few seconds by themselves).
    "$PY" manage.py reconcile_jobs </dev/null >>"$LOG_DIR/demo.log" 2>&1 \
        || die "reconciling jobs failed: $(error_line "$LOG_DIR/demo.log") (log: $LOG_DIR/demo.log)"
    start_service "$pool_pidfile" "RQ worker pool ($WORKERS workers)" "$LOG_DIR/rqworker-pool.log" \
        "$PY" manage.py rqworker-pool --num-workers "$WORKERS" default
fi
# Rollout notifications (webhooks, mail) have workers of their own: a webhook
# that hangs holds one of these, never a worker a rollout step waits for.
if pid="$(live_pid "$notify_pidfile" "rqworker-pool.*notifications")"; then
    say "notifications worker pool already running (pid $pid)"
else
    start_service "$notify_pidfile" "notifications worker pool (2 workers)" "$LOG_DIR/rqworker-notifications.log" \
        "$PY" manage.py rqworker-pool --num-workers 2 notifications
fi
# Ready when every worker has registered itself with Redis.
workers_on() {  # queue
    REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" scard "rq:workers:$1" 2>/dev/null || echo 0
}
for ((i = 0; i < 150; i++)); do
    live_pid "$pool_pidfile" rqworker-pool >/dev/null || die "the RQ worker pool exited: $(error_line "$LOG_DIR/rqworker-pool.log") (log: $LOG_DIR/rqworker-pool.log)"
    live_pid "$notify_pidfile" "rqworker-pool.*notifications" >/dev/null || die "the notifications worker pool exited: $(error_line "$LOG_DIR/rqworker-notifications.log") (log: $LOG_DIR/rqworker-notifications.log)"
    n="$(workers_on default)" notify="$(workers_on notifications)"
    [ "${n:-0}" -ge "$WORKERS" ] && [ "${notify:-0}" -ge 2 ] && break
    sleep 0.2
done
[ "${n:-0}" -ge "$WORKERS" ] || die "only ${n:-0} of $WORKERS RQ workers registered in 30 s (log: $LOG_DIR/rqworker-pool.log)"
[ "${notify:-0}" -ge 2 ] || die "only ${notify:-0} of 2 notifications workers registered in 30 s (log: $LOG_DIR/rqworker-notifications.log)"

# The marker tells demo-stop to run `sandbox down`, also after a failed up.
sandbox_log="$LOG_DIR/sandbox.log"
touch "$RUN_DIR/sandbox.up"
say "starting the sandbox cluster: Core + $DEA_NODES DEA nodes from $SANDBOX_BASE_ADDRESS (log: $sandbox_log)"
# Output goes to a file: the sandbox's daemons must not hold our stdout.
"$PY" manage.py sandbox up --dea "$DEA_NODES" ${KATO_VERSION:+--kato-version "$KATO_VERSION"} \
    </dev/null >>"$sandbox_log" 2>&1 || die "sandbox up failed: $(error_line "$sandbox_log") (log: $sandbox_log)"
# The fleet shows at once: the sandbox's nodes as a cluster, host keys pinned
# from the sandbox's own key files, then a first refresh of their facts.
"$PY" manage.py sandbox register </dev/null >>"$sandbox_log" 2>&1 \
    || die "sandbox register failed: $(error_line "$sandbox_log") (log: $sandbox_log)"
"$PY" manage.py refresh_facts </dev/null >>"$sandbox_log" 2>&1 \
    || die "refreshing the sandbox nodes' facts failed: $(error_line "$sandbox_log") (log: $sandbox_log)"

if pid="$(live_pid "$web_pidfile" runserver)"; then
    say "web server already running (pid $pid)"
else
    # --insecure: runserver serves the admin's static files with DEBUG off.
    start_service "$web_pidfile" "web server" "$LOG_DIR/web.log" \
        "$PY" manage.py runserver --noreload --insecure "$WEB_HOST:$WEB_PORT"
fi
url="http://$WEB_HOST:$WEB_PORT/admin/"
wait_port "$WEB_HOST" "$WEB_PORT" 60 && live_pid "$web_pidfile" runserver >/dev/null \
    || die "the web server did not come up on $WEB_HOST:$WEB_PORT: $(error_line "$LOG_DIR/web.log") (log: $LOG_DIR/web.log)"
"$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20)' "${url}login/" 2>/dev/null \
    || die "${url}login/ does not answer 200 (log: $LOG_DIR/web.log)"

running=1
cat <<EOF

stackato_dash demo is running.
  URL:      $url
  Username: $ADMIN_USER
  Password: $(cat "$password_file")
The password is kept in $password_file; logs are in $LOG_DIR/.
Press Ctrl-C (or run \`make demo-stop\`) to stop it.
EOF

stop_all() {
    trap '' INT TERM HUP
    echo
    bash "$REPO_DIR/scripts/demo-stop.sh"
    exit 0
}
trap stop_all INT TERM HUP

# Stay in the foreground while the services run. `make demo-stop` from
# another terminal removes the pidfiles: then there is nothing left to do.
while true; do
    sleep 2 &
    wait $! || true
    if [ -e "$RUN_DIR/stopping" ]; then
        # demo-stop is at work (bounded: it may have been killed).
        for ((i = 0; i < 2 * (STOP_TIMEOUT + 120); i++)); do
            [ -e "$RUN_DIR/stopping" ] || break
            sleep 0.5
        done
        say "stopped"
        exit 0
    fi
    for f in "$web_pidfile:runserver:web server" "$pool_pidfile:rqworker-pool:RQ worker pool" \
        "$notify_pidfile:rqworker-pool.*notifications:notifications worker pool" "$redis_pidfile:redis-server:Redis"; do
        IFS=: read -r pidfile pattern name <<<"$f"
        [ -e "$pidfile" ] || { say "stopped"; exit 0; }
        if ! live_pid "$pidfile" "$pattern" >/dev/null; then
            # Not a crash if demo-stop began between our two checks.
            [ -e "$RUN_DIR/stopping" ] || [ ! -e "$pidfile" ] && continue 2
            say "the $name exited unexpectedly (logs: $LOG_DIR/); stopping the rest"
            bash "$REPO_DIR/scripts/demo-stop.sh"
            exit 1
        fi
    done
done
