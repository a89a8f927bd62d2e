"""API tokens in the console: a user makes one (shown once, on the answer to
the POST only), lists and revokes their own; an admin sees and revokes
everyone's, never a secret. Making and revoking are in the admin's log."""
import re

import pytest
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.urls import reverse
from knox.models import AuthToken

from support.api_tokens import client_with

pytestmark = pytest.mark.django_db
ADD, CHANGELIST = reverse("admin:api_apitoken_add"), reverse("admin:api_apitoken_changelist")
TOKEN = re.compile(r"sdash_[0-9a-f]{64}")


@pytest.fixture
def viewer(client, django_user_model, groups):
    """Logged in to the console, no token yet."""
    user = django_user_model.objects.create_user("viewer", password=None, is_staff=True)
    user.groups.add(groups["Viewer"])
    client.force_login(user)
    return user


def make_token(client, days="30") -> str:
    response = client.post(ADD, {"days": days})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = TOKEN.findall(response.content.decode())
    assert len(set(found)) == 1, "the new token, shown on its page"
    return found[0]


def test_a_user_makes_a_token_that_is_shown_once_and_works(client, viewer, fleet_in_db):
    token = make_token(client)
    assert client_with(token).get("/api/clusters/").status_code == 200
    row = AuthToken.objects.get(user=viewer)
    assert 29 <= (row.expiry - row.created).days <= 30
    # Never again: not on the list, not on its own page, not in the log.
    assert token not in client.get(CHANGELIST).content.decode()
    page = client.get(reverse("admin:api_apitoken_change", args=[row.pk]))
    assert page.status_code == 200 and token not in page.content.decode() and row.digest[:12] in page.content.decode()
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.user, entry.object_repr) == (ADDITION, viewer, f"API token {row.digest[:12]} of viewer")
    assert token not in entry.change_message and token[:15] not in entry.object_repr


def test_a_token_life_is_bounded(client, viewer, settings):
    settings.API_TOKEN_MAX_DAYS = 60
    for days in ("0", "61", "x"):
        response = client.post(ADD, {"days": days})
        assert response.status_code == 200 and not TOKEN.search(response.content.decode())
    assert not AuthToken.objects.exists()
    assert "Ensure this value is less than or equal to 60." in client.post(ADD, {"days": "61"}).content.decode()


def test_a_user_revokes_their_token_and_it_stops_working(client, viewer, fleet_in_db):
    token = make_token(client)
    row = AuthToken.objects.get()
    response = client.post(CHANGELIST, {"action": "revoke", "_selected_action": [row.pk], "post": "yes"}, follow=True)
    assert response.status_code == 200
    assert not AuthToken.objects.exists()
    assert client_with(token).get("/api/clusters/").status_code == 401
    revoked = LogEntry.objects.get(action_flag=DELETION)
    assert (revoked.user, revoked.object_repr) == (viewer, f"API token {row.digest[:12]} of viewer")


def test_a_user_sees_and_revokes_only_their_own_tokens(client, viewer, token_of):
    other, _ = token_of("Operator")
    row = AuthToken.objects.get(user=other)
    assert row.digest[:12] not in client.get(CHANGELIST).content.decode()
    assert client.get(reverse("admin:api_apitoken_change", args=[row.pk])).status_code == 302  # "doesn't exist"
    client.post(CHANGELIST, {"action": "revoke", "_selected_action": [row.pk], "post": "yes"})
    assert client.post(reverse("admin:api_apitoken_delete", args=[row.pk]), {"post": "yes"}).status_code != 200
    assert AuthToken.objects.filter(user=other).exists()


def test_an_admin_sees_and_revokes_any_token_but_no_secret(client, admin_user, token_of):
    other, other_token = token_of("Release manager")
    row = AuthToken.objects.get(user=other)
    client.force_login(admin_user)
    page = client.get(CHANGELIST).content.decode()
    assert row.digest[:12] in page and "release_manager" in page
    assert other_token not in page and other_token[:15] not in page
    client.post(reverse("admin:api_apitoken_delete", args=[row.pk]), {"post": "yes"})
    assert not AuthToken.objects.filter(user=other).exists()
    entry = LogEntry.objects.get(action_flag=DELETION)
    assert (entry.user, entry.object_repr) == (admin_user, f"API token {row.digest[:12]} of release_manager")


def test_a_token_is_made_for_the_user_asking_only(client, admin_user, viewer):
    client.force_login(admin_user)
    make_token(client)
    client.post(ADD, {"days": "30", "user": viewer.pk})
    assert sorted(AuthToken.objects.values_list("user__username", flat=True)) == ["admin", "admin"]


def test_knox_own_admin_is_not_served(admin_client):
    # It makes tokens for anyone and shows them in a message kept in a cookie or the session.
    assert admin_client.get("/admin/knox/authtoken/add/").status_code == 404


def test_every_console_user_finds_the_page(client, viewer):
    assert ADD in client.get(reverse("admin:index")).content.decode()
    page = client.get(ADD).content.decode()
    assert "It is shown once" in page and reverse("api-docs") in page
