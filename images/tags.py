"""The next tag to suggest for a new version: a patch bump of its parent's."""
import re

from images.references import TAG_RE

_SEMVER = re.compile(r"(v?)(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", re.ASCII)
_COUNTER = re.compile(r"(.*-)([0-9]+)", re.ASCII)
TAG_MAX = 128
FIRST_TAG = "1.0.0"


def next_tag(tag: str | None) -> str:
    """1.2.3 -> 1.2.4 (v1.2.3 -> v1.2.4); name-7 -> name-8; anything else -> anything-1.

    No tag (a digest-only or untagged parent) starts at 1.0.0.
    """
    if not tag:
        return FIRST_TAG
    semver = _SEMVER.fullmatch(tag)
    if semver:
        v, major, minor, patch = semver.groups()
        return f"{v}{major}.{minor}.{int(patch) + 1}"
    counter = _COUNTER.fullmatch(tag)
    if counter:
        bumped = f"{counter[1]}{int(counter[2]) + 1}"
        if len(bumped) <= TAG_MAX:
            return bumped
    return f"{tag[:TAG_MAX - 2]}-1"


def next_free_tag(tag: str | None, taken: set[str], attempts: int = 1000) -> str:
    """next_tag, bumped again past every tag already taken."""
    candidate = next_tag(tag)
    for _ in range(attempts):
        if candidate not in taken and TAG_RE.fullmatch(candidate):
            return candidate
        candidate = next_tag(candidate)
    raise ValueError(f"no free tag after {tag!r} within {attempts} bumps")
