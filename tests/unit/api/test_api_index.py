"""GET /api/ is the API's index: each endpoint's list and where the schema
and its documentation are, for a token whose user may read the API; 401
and 403 for everyone else, as on every other endpoint."""
import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
LISTS = ["clusters", "nodes", "image-versions", "rollouts", "promotions", "fence-restarts"]


@pytest.mark.parametrize("role", ["Viewer", "Operator", "Release manager"])
def test_each_role_reads_the_index_and_every_link_in_it_answers(client_as, fleet_in_db, role):
    client = client_as(role)
    response = client.get("/api/")
    assert response.status_code == 200
    index = response.json()
    assert index == {"endpoints": {name: f"http://testserver/api/{name}/" for name in LISTS},
                     "schema": "http://testserver/api/schema/", "docs": "http://testserver/api/docs/"}
    for url in [*index["endpoints"].values(), index["schema"], index["docs"]]:
        assert client.get(url).status_code == 200, url


def test_without_a_token_it_is_401_and_says_how_to_authenticate(admin_client, fleet_in_db):
    response = APIClient().get("/api/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert admin_client.get("/api/").status_code == 401  # a console session is not an API credential


def test_a_user_in_no_role_is_refused_in_the_api_words(client_as):
    response = client_as("No role").get("/api/")
    assert response.status_code == 403
    # Reading any one of the lists would do.
    assert response.json() == {"detail": "no_role may not do this: it needs the permission images.view_imageversion "
                                         "or images.view_promotion or images.view_rollout or nodes.view_cluster or "
                                         "nodes.view_fencerestart or nodes.view_node."}


def test_a_user_who_is_not_staff_is_refused(client_as):
    response = client_as("Viewer", is_staff=False).get("/api/")
    assert response.status_code == 403
    assert response.json() == {"detail": "This token's user may not use the console (not an active staff user)."}


def test_it_is_read_only(client_as):
    assert client_as("Release manager").post("/api/", {}, format="json").status_code == 405
