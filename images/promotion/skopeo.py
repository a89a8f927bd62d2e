"""Copy one image by digest from a registry to another with skopeo (Debian's
package, installed by scripts/install.sh): the manifest and blobs move
registry to registry unchanged (--preserve-digests refuses any conversion
that would change the digest), without passing through a Docker engine.

skopeo runs on the console's machine, which already talks to both
registries (images/registry.py). Anonymous access only, no proxy from the
environment, its own policy file (accept any image: the digest pins what is
copied) and a scratch HOME, so no user's container config or credentials is
read. The host's /etc/containers/registries.conf and certs.d still are: a
mirror configured there could serve the source, but only the pinned digest."""
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from images import registry
from images.references import PATH_RE, TAG_RE

POLICY = Path(__file__).with_name("skopeo-policy.json")
COPY_TIMEOUT = 900  # seconds; a large image between two registries on the private network
OUTPUT_KEPT = 20  # last lines quoted in a failure's reason
_LOCATION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}", re.ASCII)  # host:port, as Cluster.registry
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)


class CopyFailed(Exception):
    """skopeo ran and did not copy the image."""


class CopyUnavailable(Exception):
    """skopeo could not be run at all."""


def _tls_verify(location: str) -> str:
    # A registry declared insecure (INSECURE_REGISTRIES, the seed's plain-HTTP
    # one) is spoken to without TLS verification; any other has its
    # certificate checked, as registry.py does.
    return "true" if registry.scheme(location) == "https" else "false"


def _checked(source_location: str, target_location: str, repository: str, digest: str, tag: str) -> None:
    """Each piece of the two docker:// names fully matches its grammar, so
    none can carry an option, a second name or a path outside the registry
    (the rows they come from were validated when saved; this is the last
    place before exec, as nodes/remote.py is for SSH)."""
    pieces = [(source_location, "a registry location", _LOCATION), (target_location, "a registry location", _LOCATION),
              (repository, "a repository name", PATH_RE), (digest, "a sha256 digest", _DIGEST), (tag, "a tag", TAG_RE)]
    for value, what, grammar in pieces:
        if not isinstance(value, str) or not grammar.fullmatch(value):
            raise CopyFailed(f"not copied: {value!r:.80} is not {what}")


def command(source_location: str, target_location: str, repository: str, digest: str, tag: str) -> list[str]:
    _checked(source_location, target_location, repository, digest, tag)
    return ["skopeo", "--policy", str(POLICY), "copy", "--all", "--preserve-digests", "--retry-times", "0",
            "--src-no-creds", "--dest-no-creds",
            f"--src-tls-verify={_tls_verify(source_location)}", f"--dest-tls-verify={_tls_verify(target_location)}",
            f"docker://{source_location}/{repository}@{digest}", f"docker://{target_location}/{repository}:{tag}"]


def copy(source_location: str, target_location: str, repository: str, digest: str, tag: str, log) -> None:
    """The arguments were validated where they came from (the version's
    row, the clusters' registry fields) and again by command(); the list
    goes to exec, never a shell. log gets each line of skopeo's output."""
    binary = shutil.which("skopeo")
    if binary is None:
        raise CopyUnavailable("skopeo is not installed on the console's machine (scripts/install.sh installs it)")
    argv = [binary, *command(source_location, target_location, repository, digest, tag)[1:]]
    log("$ " + " ".join(argv[1:]))
    with tempfile.TemporaryDirectory(prefix="promote-") as scratch:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": scratch, "TMPDIR": scratch}
        if os.environ.get("SSL_CERT_FILE"):
            env["SSL_CERT_FILE"] = os.environ["SSL_CERT_FILE"]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,  # noqa: S603 - fixed argv, no shell
                                   env=env, text=True, errors="replace")
        timed_out = threading.Event()

        def stop():
            timed_out.set()
            process.kill()

        timer = threading.Timer(COPY_TIMEOUT, stop)
        timer.start()
        lines = []
        try:
            for line in process.stdout:
                lines.append(line.rstrip())
                del lines[:-OUTPUT_KEPT]
                log(line.rstrip())
            code = process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:
                # Whatever stopped this job (a log line the database refused,
                # RQ's job timeout) must stop the copy too: left running, it
                # would go on writing to the target unwatched.
                process.kill()
                process.wait()
    if code != 0:
        said = "; ".join(line for line in lines if line) or f"exit status {code}"
        if timed_out.is_set():
            said = f"stopped after {COPY_TIMEOUT} s"
        elif code < 0:
            said = f"killed by signal {-code}" + (f" after: {said}" if lines else "")
        raise CopyFailed(f"skopeo could not copy {repository}@{digest[:19]}...: {said}")
