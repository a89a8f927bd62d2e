"""The Build and Push admin actions: a plan page first, then say what was
queued, and for every version that was not, why (immutable, in progress, no
worker...)."""
from django.contrib import messages

from images import engine, jobs, name_collisions, push, registry, transitions
from stackato_dash import queueing
from stackato_dash.admin_confirmation import PlanRow, confirmation_page, confirmed


def build_refusal(version) -> str | None:
    if version.is_running:
        return f"{version} is {version.status}: wait for it to finish."
    if version.image_id:
        return (f"{version} is already built ({version.status}): a tag is built once and never rebuilt. "
                "Create a new version with a new tag.")
    if version.cluster.registry:
        try:
            digest = registry.manifest_digest(version.cluster.registry, version.repository, version.tag)
        except registry.RegistryError:
            digest = None  # the push asks again before pushing
        if digest:
            return (f"The registry {version.cluster.registry} already holds {version} ({digest[:19]}...): "
                    "tags are immutable. Create a new version with a new tag.")
    return None


def push_refusal(version) -> str | None:
    if version.is_running:
        return f"{version} is {version.status}: wait for it to finish."
    if not version.image_id:
        return f"{version} is not built yet: build it first."
    if version.manifest_digest:
        return (f"{version} is already pushed as {version.registry_reference}@{version.manifest_digest}: "
                "a tag is pushed once and never re-pushed.")
    if not version.cluster.registry:
        return (f"{version.cluster} has no registry, so {version} stays local: distribution will stream it from "
                "the build engine to the nodes. Provision a registry first to push it.")
    return name_collisions.version_collision(version)


def build_effect(version) -> str:
    return f"Build FROM {version.from_reference or version.parent} on the engine {engine.describe()}."


def push_effect(version) -> str:
    repository, tag = push.target(version)
    return f"Push {version.engine_reference} from {engine.describe()} to {repository}:{tag}."


KINDS = {
    "build": (build_refusal, transitions.BUILDABLE, jobs.build_image_version),
    "push": (push_refusal, transitions.PUSHABLE, jobs.push_image_version),
}
EFFECTS = {"build": build_effect, "push": push_effect}


def confirm_then_queue(modeladmin, request, queryset, kind: str):
    if confirmed(request):
        return queue_jobs(request, queryset, kind)
    refusal_of, effect_of = KINDS[kind][0], EFFECTS[kind]
    rows = []
    for version in queryset.select_related("cluster", "parent"):
        refusal = refusal_of(version)
        rows.append(PlanRow(f"{version} ({version.cluster})", "" if refusal else effect_of(version), refusal or ""))
    return confirmation_page(modeladmin, request, queryset, title=f"{kind.capitalize()} image versions",
                             intro="Each version is built or pushed once; its tag never changes afterwards.",
                             rows=rows, button=f"Yes, {kind}")


def queue_versions(versions, kind: str) -> tuple[list[str], list[str]]:
    """Queue a build or push of each version that may have one: (what was
    queued, why each other was not). The admin action and `manage.py image`
    both go through it. Raises queueing.NoWorker when no worker would run them."""
    refusal_of, allowed, job = KINDS[kind]
    queueing.require_worker()
    queued, refused = [], []
    for version in versions:
        refusal = refusal_of(version)
        if refusal is None and not transitions.queue(version.pk, allowed):
            now = type(version).objects.get(pk=version.pk).status
            refusal = f"{version} changed meanwhile (now {now}); not queued."
        if refusal:
            refused.append(refusal)
            continue
        queueing.enqueue_on_commit(job, version.pk, description=f"{kind.capitalize()} {version}")
        queued.append(str(version))
    return queued, refused


def queue_jobs(request, queryset, kind: str) -> None:
    try:
        queued, refused = queue_versions(queryset.select_related("cluster"), kind)
    except queueing.NoWorker as error:
        messages.error(request, str(error))
        return
    for refusal in refused:
        messages.error(request, refusal)
    if queued:
        messages.success(request, f"{kind.capitalize()} queued for {', '.join(queued)}. "
                                  "Open a version to follow its log live.")
