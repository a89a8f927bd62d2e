"""The schema says what the API really answers: real answers (a start, a
cancel, a refusal of each kind, a draft, a log, the node list, a promotion)
validated against the served schema, with no key it does not declare and
none it requires missing. A client generated from the schema reads them as they are."""
import jsonschema
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from images.models import Rollout
from nodes.models import Cluster
from support.api_tokens import START

pytestmark = pytest.mark.django_db
REF = "#/components/schemas/"


def as_json_schema(node):
    """OpenAPI 3.0 to JSON Schema: `nullable`, refs into $defs, and an object
    closed to keys it does not declare."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: as_json_schema(value) for key, value in node.items()}
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace(REF, "#/$defs/")
    if "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def answers_to():
    schema = APIClient().get(reverse("api-schema"), {"format": "json"}).json()
    defs = as_json_schema(schema["components"]["schemas"])

    def check(path, method, response):
        declared = schema["paths"][path][method]["responses"]
        assert str(response.status_code) in declared, (path, method, response.status_code)
        body = declared[str(response.status_code)]["content"]["application/json"]["schema"]
        jsonschema.validate(response.json(), {**as_json_schema(body), "$defs": defs})
        return response.json()
    return check


def test_a_start_a_cancel_and_their_refusals(client_as, fleet_in_db, pushed, worker, answers_to):
    api = client_as("Release manager")
    version = pushed()
    started = answers_to("/api/rollouts/", "post", api.post("/api/rollouts/", {**START, "version": version.pk},
                                                             format="json"))
    assert started["steps"] and started["status"] == "planned"
    again = answers_to("/api/rollouts/", "post", api.post("/api/rollouts/", {**START, "version": version.pk},
                                                           format="json"))
    assert again["detail"].endswith("already has a rollout in progress: wait for it, or cancel it.")
    assert "version" in answers_to("/api/rollouts/", "post", api.post("/api/rollouts/", START, format="json"))["detail"]
    cancel = f"/api/rollouts/{started['id']}/cancel/"
    cancelled = answers_to("/api/rollouts/{id}/cancel/", "post", api.post(cancel, {"roll_back": False}, format="json"))
    assert cancelled["rollout"]["id"] == started["id"] and Rollout.objects.get().cancel_requested
    assert answers_to("/api/rollouts/{id}/", "get", api.get(f"/api/rollouts/{started['id']}/"))["id"] == started["id"]
    assert answers_to("/api/rollouts/", "get", api.get("/api/rollouts/"))["count"] == 1


def test_a_draft_its_log_and_the_nodes(client_as, fleet_in_db, answers_to):
    api = client_as("Operator")
    draft = answers_to("/api/image-versions/", "post", api.post("/api/image-versions/", {
        "cluster": "prod", "repository": "exampleco/newimg", "tag": "2.0.0",
        "from_reference": "stackato/app-holophonor:3.0.0", "run": ["echo hi"]}, format="json"))
    assert draft["status"] == "draft" and draft["run"] == ["echo hi"]
    assert answers_to("/api/image-versions/{id}/log/", "get", api.get(f"/api/image-versions/{draft['id']}/log/")) == []
    nodes = answers_to("/api/nodes/", "get", api.get("/api/nodes/"))
    assert [node["address"] for node in nodes["results"]] == ["10.0.0.11", "10.0.0.12"]


def test_a_promotion_its_refusals_and_its_reads(client_as, fleet_in_db, pushed, worker, answers_to):
    version = pushed()
    production = Cluster.objects.create(name="production", core_address="10.1.0.11", registry="10.1.0.11:5000")
    api = client_as("Release manager")
    url = f"/api/image-versions/{version.pk}/promote/"
    path = "/api/image-versions/{id}/promote/"
    never = answers_to(path, "post", api.post(url, {"cluster": "production"}, format="json"))
    assert "never succeeded on prod" in never["detail"]
    assert answers_to(path, "post", api.post(url, {"cluster": "nowhere"}, format="json")) == {
        "detail": "No cluster named 'nowhere'."}
    Rollout.objects.create(cluster=fleet_in_db, target=version, target_image=version.registry_reference,
                           target_pull=version.pull_reference, requested_by_username="rm", reason="release",
                           status="succeeded")
    promotion = answers_to(path, "post", api.post(url, {"cluster": "production"}, format="json"))
    assert (promotion["status"], promotion["target_cluster"], promotion["log"]) == ("queued", production.name, [])
    read = answers_to("/api/promotions/{id}/", "get", api.get(f"/api/promotions/{promotion['id']}/"))
    assert read == promotion
    assert answers_to("/api/promotions/", "get", api.get("/api/promotions/"))["count"] == 1
