"""The behaviours that differ between the emulated kato versions.

Kept in one place so fence, kato and the orchestrator agree on them
(DESIGN.md section 2): 3.0 reads docker/image only at fence start; 3.0.1
adds the restart of fence on every `fence:_changes`; 3.4 moves the key to
the list docker/images; 3.4.1 is the first kato that exits non-zero on error.
"""

VERSIONS = ("3.0", "3.0.1", "3.4", "3.4.1")


def check(version):
    if version not in VERSIONS:
        raise ValueError(f"unknown kato version {version!r} (one of {', '.join(VERSIONS)})")
    return version


def image_key(version):
    """The fence config path that names the base image."""
    return "docker/images" if image_is_list(version) else "docker/image"


def image_is_list(version):
    return check(version) in ("3.4", "3.4.1")


def fence_follows_changes(version):
    """True when fence restarts itself on every `fence:_changes` message."""
    return check(version) != "3.0"


def strict_exit_codes(version):
    """True when kato exits non-zero on failure (before 3.4.1 it exited 0)."""
    return check(version) == "3.4.1"
