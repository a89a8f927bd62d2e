# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Sourced, never run.
# Every failure a user can fix ends in ONE line on stderr (die), so a missing
# prerequisite never shows up later as a traceback deep in a fixture.

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO_DIR/.venv}"
PY="$VENV/bin/python"
# Which script is talking, so a line in a long CI log says where it came from.
ME="$(basename "$0" .sh)"

say() { printf '%s: %s\n' "$ME" "$*"; }
die() { printf '%s: error: %s\n' "$ME" "$*" >&2; exit 1; }

need_root() {
    # apt-get, sshd on several addresses and one dockerd per node need root.
    [ "$(id -u)" -eq 0 ] || die "must run as root (it installs Debian packages and starts sshd/dockerd for the sandbox); try: sudo make ${1:-demo}"
}

need_apt() {
    command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 \
        || die "apt-get/dpkg not found: this needs Debian 12 (bookworm)"
}

# Something answers a TCP connect on host:port. A connect, not a bind test:
# a listener on 0.0.0.0 or on exactly our address is what would clash.
port_in_use() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

port_free() {  # host port what
    if port_in_use "$1" "$2"; then
        die "port $1:$2 ($3) is already taken by another program; free it or choose another port (see .env.example)"
    fi
}

wait_port() {  # host port seconds: until something listens
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        port_in_use "$1" "$2" && return 0
        sleep 0.2
    done
    return 1
}

# The pid in a pidfile, if that process still runs the program we started
# (pids are reused: a stale file must not make us signal a stranger).
live_pid() {  # pidfile cmdline-pattern
    local pid
    [ -s "$1" ] || return 1
    pid="$(tr -dc 0-9 <"$1")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" || return 1
    echo "$pid"
}

# Stop what a pidfile names: TERM, wait, then KILL its process group (the
# worker pool's children and runserver's threads die with it).
stop_pidfile() {  # pidfile pattern name [seconds]
    local pid i
    if pid="$(live_pid "$1" "$2")"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < ${4:-20} * 5; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$3 (pid $pid) did not stop on TERM; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
        say "stopped $3 (pid $pid)"
    fi
    # A group leader can exit before its children: sweep what is left.
    [ -z "${pid:-}" ] || kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$1"
}

# The settings as Django computes them (env, then .env, then defaults), so
# the scripts never disagree with the app about paths and ports.
load_config() {
    [ -x "$PY" ] || die "no virtualenv at $VENV; run scripts/install.sh first"
    local out
    out="$(cd "$REPO_DIR" && "$PY" scripts/print_config.py 2>&1)" || die "bad configuration: ${out##*$'\n'}"
    eval "$out"
    RUN_DIR="$VAR_DIR/run"
    LOG_DIR="$VAR_DIR/log"
    mkdir -p "$RUN_DIR" "$LOG_DIR"
}

# The line of a command's log that says what went wrong: the last one that
# looks like an error, else the last line (for a one-line die message).
error_line() {  # logfile
    { grep -iE 'error|unknown|fail|denied|refused|not found' "$1" || cat "$1"; } 2>/dev/null | tail -n 1
}
