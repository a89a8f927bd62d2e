"""The build engine: the Docker engine that builds and pushes images, named
by settings.BUILD_DOCKER_HOST:

- unix:///path/to/docker.sock   a local engine socket
- tcp://127.0.0.1:2375          a plain-TCP engine (no TLS: keep it on loopback)
- ssh-node:<node address>       that node's engine, over the node's SSH session
"""
import contextlib

import docker
import requests
from django.conf import settings
from docker.transport.sshconn import SSHHTTPAdapter

from nodes import remote, ssh
from nodes.models import Node

SSH_NODE = "ssh-node:"
MIN_API_VERSION = "1.24"  # only for the handshake; the engine's own version is used after it


class EngineUnavailable(Exception):
    """We could not reach or talk to the build engine (the job is `errored`)."""


# What the docker SDK and requests raise when the engine is gone mid-call.
CONNECTION_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException, ssh.SSHError, OSError)


def describe() -> str:
    return settings.BUILD_DOCKER_HOST


@contextlib.contextmanager
def open_engine(cluster):
    """A docker APIClient on the configured engine; EngineUnavailable if it does not answer."""
    spec = settings.BUILD_DOCKER_HOST
    timeout = settings.BUILD_TIMEOUT
    if spec.startswith(SSH_NODE):
        with remote.session_pool() as pool:
            session = pool.get(remote.endpoint(_node(cluster, spec[len(SSH_NODE):])))
            api = _client(spec, lambda: _over_session(session, timeout))
            try:
                yield api
            finally:
                api.close()
        return
    if not spec.startswith(("unix://", "tcp://")):
        raise EngineUnavailable(f"BUILD_DOCKER_HOST={spec!r} is not unix://..., tcp://... or ssh-node:<address>")
    api = _client(spec, lambda: docker.APIClient(base_url=spec, version="auto", timeout=timeout))
    try:
        yield api
    finally:
        api.close()


def _client(spec: str, make) -> docker.APIClient:
    try:
        return make()
    except CONNECTION_ERRORS as error:
        raise EngineUnavailable(f"the build engine {spec} does not answer: {error}") from None


def _node(cluster, address: str) -> Node:
    # The cluster's own row first: the same address may exist in another cluster.
    node = (Node.objects.filter(cluster=cluster, address=address).first()
            or Node.objects.filter(address=address).first())
    if node is None:
        raise EngineUnavailable(f"BUILD_DOCKER_HOST names node {address!r}, which is not in the console")
    return node


class _PinnedSession:
    """What the SDK's SSH adapter needs from a paramiko client: the transport
    of our Session, whose host key was checked against the pinned one."""

    def __init__(self, session: ssh.Session):
        self.session = session

    def get_transport(self):
        self.session.connect()
        return self.session.transport

    def close(self):  # the session pool closes the session
        pass


class _PinnedSessionAdapter(SSHHTTPAdapter):
    def __init__(self, session: ssh.Session, timeout: int):
        # shell_out=True only stops the SDK from opening its own paramiko
        # client (which would trust ~/.ssh/known_hosts, not our pinned key).
        super().__init__("ssh://pinned-node", timeout=timeout, shell_out=True)
        self.ssh_client = _PinnedSession(session)

    def _connect(self):
        self.ssh_client.get_transport()


def _over_session(session: ssh.Session, timeout: int) -> docker.APIClient:
    """The SDK's ssh:// transport, on our session: each HTTP connection is a
    channel running the fixed command `docker system dial-stdio` (the docker
    CLI must be on the node), with no user input in it."""
    session.connect()
    api = docker.APIClient(base_url="ssh://pinned-node", version=MIN_API_VERSION, timeout=timeout,
                           use_ssh_client=True)
    api._custom_adapter = _PinnedSessionAdapter(session, timeout)
    api.mount("http+docker://ssh", api._custom_adapter)
    # The SDK negotiates the API version in its constructor; do it now, on our transport.
    api._version = api._retrieve_server_version()
    return api
