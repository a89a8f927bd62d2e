"""The emulated fence: `python -m sandbox.nodeside.fence` under a DEA's supervisord.

What it reproduces of the real one (DESIGN.md section 2):
- at start it reads the base image from config (docker/image, or
  docker/images[0] from 3.4) and refuses to run if the node's engine lacks
  it: it exits 1 before startsecs, so supervisord marks it FATAL;
- from 3.0.1 it exits 0 on every `fence:_changes` message so supervisord
  starts it again with the new image (all DEAs at once); with the
  reload_in_place knob it re-reads the image inside the same process
  instead (same pid and start time: a reload nobody outside can see);
- it writes pid, image and start time to `<node dir>/fence.json`, for the
  sandbox's status and the tests (kato prints none of them).
Fault knobs (faults.py): fail_restarts fails the next starts, restart_delay
and hang hold it in STOPPING after SIGTERM.
Config is read with resp.py and the engine asked with engine_check, not
redis-py and the docker SDK, so a failing start ends long before
supervisord's startsecs and is FATAL rather than restarted.
"""
import json
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from . import cluster_file, config_store, engine_check, faults, fence_status, versions
from .jsonfile import write_json
from .resp import RespClient, RespError
from .supervisor_conf import STARTSECS

_BORN = time.monotonic()  # the start must fit in supervisord's startsecs: log how long it took
POLL = 0.2  # seconds between looks at the stop flag, pubsub and the hang knob
_stop_requested = False


def log(message):
    # supervisord sends our stdout/stderr to <node dir>/fence.log
    print(f"fence[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def _on_sigterm(signum, frame):
    global _stop_requested
    _stop_requested = True


def utc_now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def missing_image_reason(image, cluster, docker_host):
    """Why the node's engine cannot serve `image`, or None when it has it."""
    if not cluster.get("docker"):
        return None  # sandbox without engines (--no-docker): every image counts as present
    if not docker_host:
        return "DOCKER_HOST is not set, cannot check the image"
    try:
        if engine_check.has_image(docker_host, image):
            return None
    except engine_check.EngineError as exc:
        return f"cannot check image {image}: {exc}"
    return f"image {image} is not in the engine at {docker_host}"


def subscribe(cluster):
    where = cluster["config_redis"]
    sub = RespClient(where["host"], where["port"], password=config_store.password(where))
    sub.command("SUBSCRIBE", config_store.channel(config_store.FENCE_COMPONENT))
    return sub


def read_image(cluster, version):
    where = cluster["config_redis"]
    client = RespClient(where["host"], where["port"], password=config_store.password(where))
    try:
        raw = client.command("GET", config_store.FENCE_COMPONENT)
    finally:
        client.close()
    if raw is None:
        raise config_store.ComponentNotFound(config_store.FENCE_COMPONENT)
    return config_store.fence_image_from(json.loads(raw), version)


def reload_in_place(cluster, version, node_dir, started):
    """The reload_in_place knob: take the new image without a new process."""
    try:
        image = read_image(cluster, version)
    except (config_store.ConfigError, ValueError, OSError, RespError) as exc:
        log(f"config changed but cannot be read ({exc}); keeping the image I run")
        return
    write_json(Path(node_dir) / fence_status.STATE_FILE, {"pid": os.getpid(), "image": image, "started_at": started})
    log(f"reloaded in place: now image {image} (reload_in_place knob)")


def wait_for_stop(cluster, sub, node_dir=None, on_reload=None):
    """Run until SIGTERM (returns "sigterm") or, when subscribed, a config change ("changed")."""
    while not _stop_requested:
        if sub is None:
            time.sleep(POLL)
            continue
        try:
            if sub.wait_message(POLL) is not None:
                if on_reload and faults.read(node_dir)["reload_in_place"]:
                    on_reload()
                    continue
                return "changed"
        except (OSError, RespError) as exc:
            # config_redis restarting: keep running the image we have, resubscribe
            log(f"lost the config_redis subscription ({exc}); retrying")
            sub.close()
            sub = None
            while sub is None and not _stop_requested:
                time.sleep(1.0)
                try:
                    sub = subscribe(cluster)
                except (OSError, RespError):
                    pass
    return "sigterm"


def stop_slowly(node_dir):
    """The restart_delay and hang knobs: what keeps supervisord in STOPPING."""
    delay = faults.read(node_dir)["restart_delay"]
    if delay:
        log(f"stopping in {delay:g}s (restart_delay knob)")
        time.sleep(delay)
    announced = False
    while faults.read(node_dir)["hang"]:
        if not announced:
            log("not stopping while the hang knob is on")
            announced = True
        time.sleep(POLL)


def main():
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cluster = cluster_file.load()
        node = cluster_file.this_node(cluster)
    except cluster_file.ClusterFileError as exc:
        log(f"cannot start: {exc}")
        return 1
    node_dir = cluster_file.node_dir(node)
    if faults.take_failed_start(node_dir):
        log("failing this start on purpose (fail_restarts knob)")
        return 1

    version = cluster["kato_version"]
    sub = None
    try:
        if versions.fence_follows_changes(version):
            # subscribe before reading: a change made after the read is never missed
            sub = subscribe(cluster)
        image = read_image(cluster, version)
    except (config_store.ConfigError, ValueError) as exc:
        log(f"cannot start: {exc}")
        return 1
    except (OSError, RespError) as exc:
        log(f"cannot start: config_redis unreachable ({exc})")
        return 1

    docker_host = os.environ.get("DOCKER_HOST") or node.get("docker_host")
    reason = missing_image_reason(image, cluster, docker_host)
    if reason:
        log(f"cannot start: {reason}")
        return 1

    started = utc_now()
    write_json(Path(node_dir) / fence_status.STATE_FILE,
               {"pid": os.getpid(), "image": image, "started_at": started})
    log(f"running with image {image} (kato {version}, ready in {time.monotonic() - _BORN:.2f}s)")

    why = wait_for_stop(cluster, sub, node_dir, lambda: reload_in_place(cluster, version, node_dir, started))
    if why == "changed":
        # An exit inside startsecs counts as a failed start (FATAL) for
        # supervisord: a change that arrives that early waits it out.
        time.sleep(max(0.0, STARTSECS + 0.5 - (time.monotonic() - _BORN)))
        log("fence config changed; exiting so supervisord starts me with it")
    else:
        stop_slowly(node_dir)
        log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
