#!/usr/bin/env bash
# Our own redis-server for RQ, on REDIS_URL's loopback host and port and
# requiring REDIS_URL's password, with its pidfile in $VAR_DIR/run/redis.pid. Debian's packaged service is never
# relied on (no init system in our containers).
#   usage: scripts/redis.sh start|stop
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
load_config

pidfile="$RUN_DIR/redis.pid"

case "${1:-}" in
start)
    if pid="$(live_pid "$pidfile" redis-server)"; then
        say "Redis already running (pid $pid) on $REDIS_HOST:$REDIS_PORT"
        exit 0
    fi
    # Whoever can write to this Redis decides what the workers run: never
    # start it without a password (REDIS_URL's; settings generates one into
    # $VAR_DIR/redis_password when REDIS_URL is unset).
    [ -n "$REDIS_PASSWORD" ] || die "REDIS_URL has no password, and the Redis for RQ must require one: unset REDIS_URL to use the one generated into $VAR_DIR/redis_password, or give redis://:PASSWORD@$REDIS_HOST:$REDIS_PORT/$REDIS_DB"
    port_free "$REDIS_HOST" "$REDIS_PORT" "Redis for RQ, from REDIS_URL"
    mkdir -p "$VAR_DIR/redis"
    # An append-only file in $VAR_DIR/redis, so queued jobs (and the job
    # reconciler's next run) survive a Redis restart; fsync once a second.
    # The database rows stay the source of truth: what a crash loses in that
    # second, the reconciler queues again (job_runs/reconciler.py).
    # The password reaches redis-server as config on its standard input ("-"),
    # never on a command line that any local user could read with ps.
    printf 'requirepass "%s"\n' "$REDIS_PASSWORD" | redis-server - \
        --bind "$REDIS_HOST" --port "$REDIS_PORT" --protected-mode yes \
        --daemonize yes --pidfile "$pidfile" --dir "$VAR_DIR/redis" \
        --logfile "$LOG_DIR/redis.log" --save '' --appendonly yes --appendfsync everysec \
        >/dev/null 2>&1 || die "redis-server would not start (see $LOG_DIR/redis.log)"
    for _ in $(seq 50); do
        [ "$(REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && break
        sleep 0.2
    done
    pid="$(live_pid "$pidfile" redis-server)" || die "redis-server did not come up on $REDIS_HOST:$REDIS_PORT (see $LOG_DIR/redis.log)"
    say "Redis started (pid $pid) on $REDIS_HOST:$REDIS_PORT"
    ;;
stop)
    stop_pidfile "$pidfile" redis-server Redis 10
    ;;
*)
    die "usage: $0 start|stop"
    ;;
esac
