"""/metrics scraped over HTTP, with a bearer token, after a real rollout on
the 4-DEA sandbox: what Prometheus would read is what the rows say."""
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from images.models.rollout import RolloutStatus
from nodes.models import Node
from sandbox import layout
from support.image_versions import product_version
from support.rollout_driving import roll_out
from support.rq import run_queued_jobs

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "integration-scrape-token"  # noqa: S105  a test value, not a secret


def scrape(live_server) -> dict:
    request = urllib.request.Request(f"{live_server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  the test's own loopback server
        text = response.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_a_rollout_shows_up_in_the_metrics(admin_client, live_server, settings, rollout_sandbox, rollout_fleet):
    settings.METRICS_TOKEN = TOKEN
    version = product_version(rollout_sandbox, rollout_fleet, "4.2.0")
    rollout = roll_out(admin_client, version)
    run_queued_jobs()
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.SUCCEEDED, rollout.decisions

    samples = scrape(live_server)
    cluster = rollout.cluster.name
    deas = len(layout.deas(rollout_sandbox))
    assert samples[("stackato_dash_rollouts", frozenset({"cluster": cluster, "kind": "rollout",
                                                          "status": "succeeded"}.items()))] == 1
    for phase in ("pull", "restart"):
        count = frozenset({"phase": phase, "status": "succeeded"}.items())
        assert samples[("stackato_dash_rollout_step_duration_seconds_count", count)] == deas
    restarts = frozenset({"cluster_name": cluster, "outcome": "succeeded"}.items())
    assert samples[("stackato_dash_fence_restart_duration_seconds_count", restarts)] == deas
    assert samples[("stackato_dash_fence_restart_duration_seconds_sum", restarts)] > 0
    nodes = sum(value for (name, labels), value in samples.items()
                if name == "stackato_dash_nodes" and ("cluster", cluster) in labels)
    assert nodes == Node.objects.filter(cluster=rollout.cluster).count()
    assert samples[("stackato_dash_redis_up", frozenset())] == 1
    assert not any(name == "stackato_dash_rollout_unfinished_idle_seconds" for name, _ in samples)
