"""Facts from a node's Docker engine, asked with the docker CLI over the
node's SSH session (ssh.Session), so the engine's socket never leaves the
node and the host-key check covers these calls too."""
import json

from nodes.ssh import CommandResult, RemoteCommandError, excerpt

NONE = "<none>"  # how the docker CLI prints a missing repository, tag or digest


class DockerError(RemoteCommandError):
    """The docker CLI failed on the node or printed something unexpected."""


def _fail(session, result: CommandResult, why: str) -> DockerError:
    where = getattr(getattr(session, "endpoint", None), "address", "?")
    printed = excerpt(result.stderr + "\n" + result.stdout) or "(nothing)"
    return DockerError(f"{where}: `{' '.join(result.argv)}` {why} (exit {result.exit_code}): {printed}", result)


def _run(session, argv: list[str], timeout: float | None) -> CommandResult:
    result = session.run(argv, timeout=timeout)
    if result.exit_code != 0:
        raise _fail(session, result, "failed")
    return result


def engine_version(session, timeout: float | None = None) -> str:
    """The engine's (server's) version, e.g. "26.1.5+dfsg1"."""
    result = _run(session, ["docker", "version", "--format", "{{.Server.Version}}"], timeout)
    version = result.stdout.strip()
    if not version or len(version.splitlines()) != 1 or " " in version:
        raise _fail(session, result, "did not print one version")
    return version


def images(session, timeout: float | None = None) -> list[dict]:
    """Every tagged image: {"ref": "repo:tag", "id": "sha256:...", "digest": "sha256:..." or None}.

    Untagged (<none>) images are left out: nothing can name them in config.
    """
    argv = ["docker", "image", "ls", "--digests", "--no-trunc", "--format", "{{json .}}"]
    result = _run(session, argv, timeout)
    found, seen = [], set()
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            repository, tag, image_id, digest = row["Repository"], row["Tag"], row["ID"], row.get("Digest", NONE)
        except (ValueError, KeyError, TypeError):
            raise _fail(session, result, f"printed a line that is not an image: {line!r:.120}") from None
        if NONE in (repository, tag):
            continue
        entry = {"ref": f"{repository}:{tag}", "id": image_id, "digest": None if digest in (NONE, "") else digest}
        # --digests can list a ref once per repo digest; keep the first, like `docker image inspect`.
        if entry["ref"] not in seen:
            seen.add(entry["ref"])
            found.append(entry)
    return found


def registry_config(session, timeout: float | None = None) -> dict:
    """The engine's RegistryConfig from `docker info` (IndexConfigs,
    InsecureRegistryCIDRs, Mirrors): which registries it will pull from over
    plain HTTP (images/registry_trust.py reads it)."""
    result = _run(session, ["docker", "info", "--format", "{{json .RegistryConfig}}"], timeout)
    # Warnings (e.g. "IPv4 forwarding is disabled") go to stderr; stdout is the JSON.
    try:
        config = json.loads(result.stdout)
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise _fail(session, result, "did not print the engine's registry configuration")
    return config
