"""The OpenAPI schema the app serves names every operation and the token
authentication, and its documentation page loads nothing from a CDN."""
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

OPERATIONS = {
    "/api/clusters/": {"get": "clusters_list"},
    "/api/clusters/{id}/": {"get": "clusters_retrieve"},
    "/api/nodes/": {"get": "nodes_list"},
    "/api/image-versions/": {"get": "image_versions_list", "post": "image_versions_new_draft"},
    "/api/image-versions/{id}/": {"get": "image_versions_retrieve"},
    "/api/image-versions/{id}/build/": {"post": "image_versions_build"},
    "/api/image-versions/{id}/push/": {"post": "image_versions_push"},
    "/api/image-versions/{id}/log/": {"get": "image_versions_log"},
    "/api/image-versions/{id}/promote/": {"post": "image_versions_promote"},
    "/api/promotions/": {"get": "promotions_list"},
    "/api/promotions/{id}/": {"get": "promotions_retrieve"},
    "/api/rollouts/": {"get": "rollouts_list", "post": "rollouts_start"},
    "/api/rollouts/{id}/": {"get": "rollouts_retrieve"},
    "/api/rollouts/{id}/cancel/": {"post": "rollouts_cancel"},
    "/api/rollouts/{id}/undo/": {"post": "rollouts_undo"},
    "/api/rollouts/{id}/approve/": {"post": "rollouts_approve"},
    "/api/rollouts/{id}/reject/": {"post": "rollouts_reject"},
    "/api/rollouts/{id}/override-window/": {"post": "rollouts_override_window"},
    "/api/rollouts/{id}/pause/": {"post": "rollouts_pause"},
    "/api/rollouts/{id}/resume/": {"post": "rollouts_resume"},
    "/api/rollouts/{id}/gate/": {"post": "rollouts_gate"},
    "/api/fence-restarts/": {"get": "fence_restarts_list"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_names_every_operation(schema):
    found = {path: {method: operation["operationId"] for method, operation in methods.items()}
             for path, methods in schema["paths"].items()}
    assert found == OPERATIONS


def test_every_operation_needs_the_token(schema):
    assert schema["components"]["securitySchemes"]["knoxApiToken"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"'}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert operation["security"] == [{"knoxApiToken": []}], (method, path)


def test_the_start_and_its_refusal_are_described(schema):
    start = schema["paths"]["/api/rollouts/"]["post"]
    body = start["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][body]
    assert set(fields["required"]) == {"version", "reason"}
    assert {"canaries", "max_in_flight", "failure_threshold", "health_wait", "auto_rollback", "manual_gate",
            "distribute_only"} <= set(fields["properties"])
    assert {"201", "400", "409"} <= set(start["responses"])
    drift = next(p for p in schema["paths"]["/api/nodes/"]["get"]["parameters"] if p["name"] == "drift")
    assert "not_restarted" in drift["schema"]["enum"]


def test_the_promotion_and_its_refusals_are_described(schema):
    promote = schema["paths"]["/api/image-versions/{id}/promote/"]["post"]
    body = promote["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][body]["required"] == ["cluster"]
    assert {"202", "400", "409"} <= set(promote["responses"])
    answer = promote["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"status", "digest", "source", "target_cluster", "target", "requested_by", "log"} <= set(
        schema["components"]["schemas"][answer]["properties"])
    filters = {p["name"] for p in schema["paths"]["/api/promotions/"]["get"]["parameters"]}
    assert {"source", "target_cluster", "status"} <= filters


@pytest.mark.django_db
def test_the_docs_page_is_served_by_the_app(client):
    page = client.get(reverse("api-docs")).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui" in source for source in sources)
    assert all(source.startswith("/") for source in sources), sources  # this server's static files, no CDN
    assert reverse("api-schema") in page
