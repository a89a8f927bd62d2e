"""Who the API lets in: a token of an active staff user, not expired, not
revoked; everything else is 401 (no or bad credentials) or 403 (a user who
may not use the console). The database holds a digest, never the token."""
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from support.api_tokens import client_with

pytestmark = pytest.mark.django_db
CLUSTERS = "/api/clusters/"


def test_no_token_is_401_and_says_how_to_authenticate(fleet_in_db):
    response = APIClient().get(CLUSTERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_console_session_is_not_an_api_credential(admin_client, fleet_in_db):
    # Token authentication only: a browser's cookie cannot act through the API.
    assert admin_client.get(CLUSTERS).status_code == 401


@pytest.mark.parametrize("header", ["Token sdash_0000000000000000000000000000000000000000000000000000000000000000",
                                    "Token not-a-token", "Token", "Token two words"])
def test_a_bad_token_is_401(token_of, fleet_in_db, header):
    token_of("Viewer")  # a real token exists: a wrong one must still not match it
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(CLUSTERS).status_code == 401


def test_a_good_token_reads(token_of, fleet_in_db):
    _, token = token_of("Viewer")
    response = client_with(token).get(CLUSTERS)
    assert response.status_code == 200
    assert [cluster["name"] for cluster in response.json()["results"]] == ["prod"]


def test_a_revoked_token_is_401(token_of, fleet_in_db):
    user, token = token_of("Viewer")
    client = client_with(token)
    assert client.get(CLUSTERS).status_code == 200
    AuthToken.objects.filter(user=user).delete()  # what revoking does (test_api_tokens_admin.py: through the admin)
    assert client.get(CLUSTERS).status_code == 401


def test_an_expired_token_is_401_and_its_other_tokens_still_work(token_of, fleet_in_db):
    user, token = token_of("Viewer")
    _, other = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
    AuthToken.objects.filter(token_key=token[:15]).update(expiry=timezone.now() - timedelta(seconds=1))
    assert client_with(token).get(CLUSTERS).status_code == 401
    assert client_with(other).get(CLUSTERS).status_code == 200


def test_an_inactive_user_is_401(token_of, fleet_in_db):
    _, token = token_of("Viewer", is_active=False)
    assert client_with(token).get(CLUSTERS).status_code == 401


def test_a_user_who_may_not_use_the_console_is_403(token_of, fleet_in_db):
    _, token = token_of("Viewer", is_staff=False)
    response = client_with(token).get(CLUSTERS)
    assert response.status_code == 403
    assert response.json()["detail"] == "This token's user may not use the console (not an active staff user)."


def test_a_staff_user_without_a_role_reads_nothing(token_of, fleet_in_db):
    _, token = token_of("Nobody")
    response = client_with(token).get(CLUSTERS)
    assert response.status_code == 403
    assert response.json()["detail"] == "nobody may not do this: it needs the permission nodes.view_cluster."


def test_the_database_holds_a_digest_not_the_token(token_of):
    _, token = token_of("Viewer")
    row = AuthToken.objects.get()
    assert token.startswith("sdash_") and len(token) == len("sdash_") + 64
    assert row.digest != token and len(row.digest) == 128  # SHA-512, hex
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")  # noqa: S608  a model's own table name
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert token not in stored
    # Only knox's lookup prefix (15 of its 70 characters) is kept beside the digest.
    assert token[15:] not in stored


def test_the_docs_page_and_the_schema_need_no_token():
    # A pipeline generates its client from the schema before it has a token.
    assert APIClient().get(reverse("api-schema")).status_code == 200
    assert APIClient().get(reverse("api-docs")).status_code == 200


def test_a_token_older_than_the_maximum_life_is_401(token_of, fleet_in_db, settings):
    # Lowering API_TOKEN_MAX_DAYS (a policy change, a leak) shortens the tokens
    # already made, and a token made without an expiry (knox from a shell) lives no longer.
    user, long_lived = token_of("Viewer", days=365)
    _, without_expiry = AuthToken.objects.create(user=user, expiry=None)
    settings.API_TOKEN_MAX_DAYS = 30
    AuthToken.objects.update(created=timezone.now() - timedelta(days=31))
    for token in (long_lived, without_expiry):
        response = client_with(token).get(CLUSTERS)
        assert response.status_code == 401
        assert response.json() == {"detail": "This token was made more than 30 days ago (API_TOKEN_MAX_DAYS): "
                                             "make a new one in the console (API tokens)."}
    AuthToken.objects.update(created=timezone.now() - timedelta(days=29))
    assert client_with(long_lived).get(CLUSTERS).status_code == 200
