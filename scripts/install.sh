#!/usr/bin/env bash
# Install what `make demo` / `make test` need and is not there yet:
# Debian packages (plus any given as arguments) and the virtualenv from the
# pinned requirements. Safe to run every time: it only acts on what is missing.
#   usage: scripts/install.sh [extra-debian-package ...]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

need_root install
need_apt

# The sandbox cluster is made of these (sandbox/README.md): sshd per node,
# dockerd per node, the registry, the base image's rootfs, config_redis.
# redis-server is also the RQ broker. skopeo copies a promoted image by
# digest from one cluster's registry to another's (images/promotion/).
packages=(redis-server openssh-server docker.io docker-registry busybox-static skopeo "$@")

# The venv's python: PYTHON if given, else python3 on PATH (pyenv's 3.11 on
# our machines), else Debian's. Debian's needs python3-venv for `-m venv`.
python="${PYTHON:-$(command -v python3 || echo /usr/bin/python3)}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    [ -z "${PYTHON:-}" ] || die "PYTHON=$PYTHON is not a Python 3.10 or newer (Django 5.2 needs it)"
    python=/usr/bin/python3
    packages+=(python3 python3-venv)
elif ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    packages+=(python3-venv)
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    # Package scripts would start system-wide redis/postgres/docker services
    # where an init system lets them; they would take our ports. We start
    # our own by pid, so forbid service starts during the install (exit 101
    # is Debian's documented "action forbidden" for policy-rc.d).
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    log="$(mktemp)"
    # The package lists may be empty on a fresh machine: update first.
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "apt-get could not install: ${missing[*]} (output above)"
    fi
    rm -f "$log"
fi

# sshd refuses to start without its privilege-separation directory, and /run
# is emptied at boot, so this is checked on every run.
install -d -m 0755 /run/sshd

# A venv whose interpreter is gone (python moved or upgraded) is rebuilt.
if [ -e "$VENV" ] && ! "$PY" -c '' 2>/dev/null; then
    say "virtualenv at $VENV is broken; recreating it"
    rm -rf "$VENV"
fi
if [ ! -x "$PY" ]; then
    say "creating virtualenv $VENV with $("$python" -V 2>&1)"
    "$python" -m venv "$VENV" || die "could not create the virtualenv at $VENV with $python"
fi

# pip only runs when the pinned requirements (or the interpreter) changed
# since the last successful install, recorded in a stamp inside the venv.
stamp="$VENV/.requirements.sha256"
want="$(cd "$REPO_DIR" && { cat requirements.txt requirements-dev.txt constraints.txt; "$PY" -V; } | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python requirements (requirements-dev.txt)"
    log="$VENV/pip-install.log"
    if ! (cd "$REPO_DIR" && "$PY" -m pip install --disable-pip-version-check -r requirements-dev.txt -c constraints.txt) >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "pip could not install requirements-dev.txt (output above, full log $log)"
    fi
    echo "$want" >"$stamp"
fi
