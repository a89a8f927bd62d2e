""""Provision registry" on a cluster's Core node (the seed's registry steps
1-3), as an RQ job (images.jobs.provision_registry) whose row
(RegistryProvisioning) keeps status and log.

Idempotent: the container is found by name (registry_container.NAME); a
running one is kept, a stopped one started again. With none, a v2 registry
that already answers on the Core's registry port (one set up by hand as the
seed does, or the sandbox's own) is recorded as it is; otherwise the
container is created (after a pull only if the Core's engine lacks
REGISTRY_IMAGE). Its address is asked from Docker, `/v2/` must answer
there, and only then is it recorded on the cluster. How the container is
run (published port or host network) is in registry_container's docstring.
The job's lifecycle (job_runs/) ends a run its worker could not end.
"""
import time

from django.conf import settings
from django.core.exceptions import ValidationError

from images import registry, registry_container
from images.models import RegistryProvisioning
from job_runs.models import UNFINISHED, RunStatus
from nodes import remote, ssh
from nodes.validators import validate_registry_location

ANSWER_TIMEOUT = 30  # seconds for a started registry to answer /v2/


class ProvisionFailed(Exception):
    """A step ran on the Core node and did not give a working registry."""


def plan(cluster) -> tuple[str, str]:
    """(what the job will do, why it cannot) for the plan page."""
    core = cluster.core_node
    if core is None:
        return "", (f"no node with the Core address {cluster.core_address} in {cluster}: "
                    "import its nodes first (Clusters > Import nodes).")
    if not core.is_trusted:
        return "", f"the Core node {core.address}'s host key is not trusted yet: trust it first."
    if RegistryProvisioning.objects.filter(cluster=cluster, status__in=UNFINISHED).exists():
        return "", f"a registry provisioning of {cluster} is already queued or running."
    now = f" (now: {cluster.registry})" if cluster.registry else ""
    return (f"Over SSH to the Core node {core.address}: find the container {registry_container.NAME}, or a "
            f"registry already answering at {core.address}:{registry_container.PORT}, or run "
            f"{settings.REGISTRY_IMAGE} (pulled only if its engine lacks it), ask Docker its address, check "
            f"/v2/ there and record it as the cluster's registry{now}.{_plain_http_note(core)}"), ""


def _plain_http_note(core) -> str:
    """The container this runs speaks plain HTTP (as the seed's registry
    does), and the console speaks HTTP only to a registry declared insecure:
    said before the job is queued, not only by the job's failure."""
    location = f"{core.address}:{registry_container.PORT}"
    if registry.declared_insecure(location):
        return ""
    return (f" Note: a registry it runs speaks plain HTTP, and {location} is not declared insecure: the check of "
            f"/v2/ will fail unless INSECURE_REGISTRIES={location} is in the console's environment (and, as "
            "Docker needs, in every node's insecure-registries). A registry already serving HTTPS there is fine.")


def run(provisioning_id) -> str:
    row = RegistryProvisioning.objects.select_related("cluster").get(pk=provisioning_id)
    if row.status != RunStatus.QUEUED:
        return f"{row.status}: nothing done"
    row.status = RunStatus.RUNNING
    row.save(update_fields=["status"])
    try:
        location = _provision(row)
    except (ProvisionFailed, ssh.RemoteCommandError) as error:
        row.append(f"FAILED: {error}")
        row.finish(RunStatus.FAILED, str(error))
    except ssh.SSHError as error:
        row.append(f"ERROR: {error}")
        row.finish(RunStatus.ERRORED, f"could not reach the Core node: {error}")
    else:
        row.finish(RunStatus.SUCCEEDED, location=location)
    return row.status


def end_errored(provisioning_id, reason: str) -> None:
    """The job lifecycle's ending of a run that did not get to its end."""
    row = RegistryProvisioning.objects.filter(pk=provisioning_id, status__in=UNFINISHED).first()
    if row is not None:
        row.append(f"ERROR: {reason}")
        row.finish(RunStatus.ERRORED, reason)


def outcome(provisioning_id, result: str) -> tuple[str, str]:
    row = RegistryProvisioning.objects.get(pk=provisioning_id)
    return (row.status if row.status in (RunStatus.FAILED, RunStatus.ERRORED)
            else RunStatus.SUCCEEDED), row.status_reason


def _provision(row: RegistryProvisioning) -> str:
    cluster, log = row.cluster, row.append
    core = cluster.core_node
    if core is None:
        raise ProvisionFailed(f"no node with the Core address {cluster.core_address}: import the cluster's nodes")
    with remote.session_pool() as pool:
        session = pool.get(remote.endpoint(core))
        log(f"=== registry on the Core node {core.address} (image {row.image})")
        container = registry_container.inspect(session)
        location = None if container is not None else _registry_already_there(core.address, log)
        if location is None:
            container = _running_container(session, row, container, core.address)
            location = _address(session, container, core.address)
            log(f"Docker says the registry listens at {location}")
            _wait_for_answer(session, location, log)
    try:
        validate_registry_location(location)
    except ValidationError as error:
        raise ProvisionFailed(f"Docker gave an address that is not host:port: {error.messages[0]}") from None
    cluster.registry = location
    cluster.save(update_fields=["registry"])
    log(f"recorded {location} as the registry of {cluster}")
    return location


def _registry_already_there(core_address: str, log) -> str | None:
    """A v2 registry answering on the Core's registry port with no container
    of ours: the cluster's registry already, kept as it is (a second one
    would only split the images between two)."""
    location = f"{core_address}:{registry_container.PORT}"
    try:
        registry.ping(location)
    except registry.RegistryError:
        return None  # nothing, or nothing usable: ours is run (host network refuses a taken port)
    log(f"no container {registry_container.NAME}, but a v2 registry already answers at {registry.url(location, '/v2/')} "
        "on the Core node: recorded as it is, nothing started")
    return location


def _running_container(session, row: RegistryProvisioning, container: dict | None, core_address: str) -> dict:
    log = row.append
    if container is None:
        if registry_container.has_image(session, row.image):
            log(f"the engine holds {row.image}")
        else:
            log(f"docker pull {row.image}")
            for line in registry_container.pull(session, row.image).splitlines():
                log(line)
        host_network = not registry_container.has_bridge_network(session)
        if host_network:
            # Nothing else may already answer where the container will listen.
            _refuse_if_taken(f"{core_address}:{registry_container.PORT}")
        log(f"docker run {registry_container.NAME}: " + (
            f"host network, {registry_container.ADDR_VARIABLE}={core_address}:{registry_container.PORT} "
            "(the engine has no bridge network to publish a port on)" if host_network
            else f"publishing port {registry_container.PORT} on {core_address} (the seed's `docker run -p`)"))
        log("started container " + registry_container.run(session, row.image, core_address, host_network)[:12])
    else:
        state = registry_container.state(container)
        log(f"found container {registry_container.NAME} ({container.get('Id', '')[:12]}, {state}, "
            f"image {(container.get('Config') or {}).get('Image', '?')})")
        if state in ("exited", "created"):
            registry_container.start(session)
            log(f"docker start {registry_container.NAME}: started again")
        elif state != "running":
            raise ProvisionFailed(f"the container {registry_container.NAME} is {state}: look at it on the Core node "
                                  f"(docker ps -a), remove it or bring it back, then provision again")
    container = registry_container.inspect(session)
    if container is None or registry_container.state(container) != "running":
        raise ProvisionFailed(f"the container {registry_container.NAME} does not stay running; its last output: "
                              f"{registry_container.logs_tail(session) or '(none)'}")
    return container


def _refuse_if_taken(location: str) -> None:
    try:
        registry.ping(location)
    except registry.RegistryUnreachable:
        return
    except registry.RegistryError:
        pass
    raise ProvisionFailed(f"something that is not a registry this console can use already answers at {location}, "
                          f"where the container {registry_container.NAME} must listen: stop it, then provision again")


def _address(session, container: dict, core_address: str) -> str:
    if registry_container.uses_host_network(container):
        address = registry_container.host_network_address(container)
        if not address:
            raise ProvisionFailed(f"the container {registry_container.NAME} runs on the host network without "
                                  f"{registry_container.ADDR_VARIABLE}: its address cannot be known")
        return address
    # The seed's step 3: the Core's address with the port Docker published.
    return f"{core_address}:{registry_container.published_port(session)}"


def _wait_for_answer(session, location: str, log) -> None:
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while True:
        try:
            registry.ping(location)
        except registry.RegistryUnreachable as error:
            last = error
        except registry.RegistryError as error:
            raise ProvisionFailed(str(error)) from None
        else:
            log(f"GET {registry.url(location, '/v2/')}: a v2 registry answers")
            return
        container = registry_container.inspect(session)
        if container is None or registry_container.state(container) != "running":
            raise ProvisionFailed(f"the container {registry_container.NAME} stopped; its last output: "
                                  f"{registry_container.logs_tail(session) or '(none)'}")
        if time.monotonic() > deadline:
            raise ProvisionFailed(f"no registry answers at {registry.url(location, '/v2/')} after {ANSWER_TIMEOUT} s ({last})")
        time.sleep(0.5)
