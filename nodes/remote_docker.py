"""Facts from a node's Docker engine, asked with the docker CLI over the
node's SSH session (ssh.Session), so the engine's socket never leaves the
node and the host-key check covers these calls too.

The forms are the oldest that still work on today's engines, because
Stackato's DEAs run Docker 1.x engines: `docker inspect --type ...` and
`docker images` rather than the `docker image` / `docker container`
commands (1.13+), `--net` rather than `--network` (1.12+), `--` before
every name that comes from data (Go's flag parsing has always taken it).
What an older engine lacks is asked another way where one exists (the
engine's version, its insecure registries); README "Docker engines on the
nodes" lists the version each form needs."""
import json
import re

from nodes.ssh import CommandResult, RemoteCommandError, excerpt

NONE = "<none>"  # how the docker CLI prints a missing repository, tag or digest
# How the CLI refuses a flag or command it does not have: old mflag, then cobra.
_UNSUPPORTED = ("flag provided but not defined", "unknown flag", "is not a docker command", "unknown command")
_IMAGE_FIELDS = "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Digest}}"  # `docker images --format`: Docker 1.10+


class DockerError(RemoteCommandError):
    """The docker CLI failed on the node or printed something unexpected."""


def fail(session, result: CommandResult, why: str) -> DockerError:
    where = getattr(getattr(session, "endpoint", None), "address", "?")
    printed = excerpt(result.stderr + "\n" + result.stdout) or "(nothing)"
    return DockerError(f"{where}: `{' '.join(result.argv)}` {why} (exit {result.exit_code}): {printed}", result)


def run(session, argv: list[str], timeout: float | None = None) -> CommandResult:
    """Run a docker command; DockerError with what it printed unless it exits 0."""
    result = session.run(argv, timeout=timeout)
    if result.exit_code != 0:
        raise fail(session, result, "failed")
    return result


def unsupported(result: CommandResult) -> bool:
    """The engine's CLI is older than the flag or command it was given."""
    return result.exit_code != 0 and any(words in result.stderr.lower() for words in _UNSUPPORTED)


def _missing(result: CommandResult) -> bool:
    return result.exit_code != 0 and "no such" in (result.stderr + result.stdout).lower()


def image_id(session, reference: str, timeout: float | None = None) -> str | None:
    """The id of the image the engine holds under reference, or None."""
    result = session.run(["docker", "inspect", "--type", "image", "--format", "{{.Id}}", "--", reference],
                         timeout=timeout)
    if _missing(result):
        return None
    if result.exit_code != 0 or not result.stdout.strip():
        raise fail(session, result, "failed")
    return result.stdout.strip()


def inspect_container(session, name: str, timeout: float | None = None) -> dict | None:
    """The container's `docker inspect` object, or None if there is none."""
    result = session.run(["docker", "inspect", "--type", "container", "--", name], timeout=timeout)
    if _missing(result):
        return None
    if result.exit_code != 0:
        raise fail(session, result, "failed")
    try:
        found = json.loads(result.stdout)[0]
    except (ValueError, IndexError, KeyError, TypeError):
        found = None
    if not isinstance(found, dict):
        raise fail(session, result, "printed something that is not a container")
    return found


def engine_version(session, timeout: float | None = None) -> str:
    """The engine's (server's) version, e.g. "26.1.5+dfsg1"."""
    result = session.run(["docker", "version", "--format", "{{.Server.Version}}"], timeout=timeout)
    if unsupported(result):  # before 1.8: read "Server version: 1.7.1" from the text
        result = run(session, ["docker", "version"], timeout)
        found = re.search(r"^Server version:\s*(\S+)\s*$", result.stdout, re.MULTILINE)
        version = found[1] if found else ""
    elif result.exit_code != 0:
        raise fail(session, result, "failed")
    else:
        version = result.stdout.strip()
    if not version or len(version.splitlines()) != 1 or " " in version:
        raise fail(session, result, "did not print one version")
    return version


def images(session, timeout: float | None = None) -> list[dict]:
    """Every tagged image: {"ref": "repo:tag", "id": "sha256:...", "digest": "sha256:..." or None}.

    Untagged (<none>) images are left out: nothing can name them in config.
    """
    result = run(session, ["docker", "images", "--digests", "--no-trunc", "--format", _IMAGE_FIELDS], timeout)
    found, seen = [], set()
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 4 or not all(fields[:3]):
            raise fail(session, result, f"printed a line that is not an image: {line!r:.120}")
        repository, tag, image_id_, digest = fields
        if NONE in (repository, tag):
            continue
        entry = {"ref": f"{repository}:{tag}", "id": image_id_, "digest": None if digest in (NONE, "") else digest}
        # --digests can list a ref once per repo digest; keep the first, like `docker inspect`.
        if entry["ref"] not in seen:
            seen.add(entry["ref"])
            found.append(entry)
    return found


def registry_config(session, timeout: float | None = None) -> dict:
    """The engine's RegistryConfig from `docker info` (IndexConfigs,
    InsecureRegistryCIDRs, Mirrors): which registries it will pull from over
    plain HTTP (images/registry_trust.py reads it)."""
    result = session.run(["docker", "info", "--format", "{{json .RegistryConfig}}"], timeout=timeout)
    if unsupported(result):  # before 1.13: the "Insecure Registries:" list of its text
        return _insecure_registries_from_text(session, run(session, ["docker", "info"], timeout))
    if result.exit_code != 0:
        raise fail(session, result, "failed")
    # Warnings (e.g. "IPv4 forwarding is disabled") go to stderr; stdout is the JSON.
    try:
        config = json.loads(result.stdout)
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise fail(session, result, "did not print the engine's registry configuration")
    return config


def _insecure_registries_from_text(session, result: CommandResult) -> dict:
    """The same shape as `{{json .RegistryConfig}}`, from the lines under
    "Insecure Registries:" (ranges, then host:port entries, one a line)."""
    lines = result.stdout.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Insecure Registries:")
    except StopIteration:
        raise fail(session, result, "printed no 'Insecure Registries:' list") from None
    cidrs, index = [], {}
    header_indent = len(lines[start]) - len(lines[start].lstrip())
    for line in lines[start + 1:]:
        entry = line.strip()
        if not entry or len(line) - len(line.lstrip()) <= header_indent:
            break  # the next section
        if "/" in entry:
            cidrs.append(entry)
        else:
            index[entry] = {"Name": entry, "Mirrors": [], "Secure": False, "Official": False}
    return {"IndexConfigs": index, "InsecureRegistryCIDRs": cidrs, "Mirrors": []}
