"""Login brute force is limited (django-axes, issue 12): after
AXES_FAILURE_LIMIT failed logins the admin's login refuses that username and
that address, even with the right password, and the page says why."""
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
ATTACKER, OTHER = "127.0.0.2", "127.0.0.3"


@pytest.fixture
def users():
    model = get_user_model()
    return {name: model.objects.create_user(name, password=f"right-{name}-pw", is_staff=True)
            for name in ("alice", "bob")}


def log_in(client, username, password, address):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_failed_logins_lock_out_the_username_and_the_address(client, users):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = log_in(client, "alice", "guess", ATTACKER)
        assert response.status_code == 200 and b"Please enter the correct username and password" in response.content
    locked = log_in(client, "alice", "guess", ATTACKER)
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content

    # The right password no longer helps: not for alice, not from that address.
    for username, address in (("alice", ATTACKER), ("alice", OTHER), ("bob", ATTACKER)):
        response = log_in(client, username, f"right-{username}-pw", address)
        assert response.status_code == 429, (username, address)
        assert b"Too many failed logins" in response.content
        assert b"locked" in response.content
        assert not logged_in(client)

    # Someone else, from elsewhere, is not affected.
    response = log_in(client, "bob", "right-bob-pw", OTHER)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert logged_in(client)


def test_a_successful_login_clears_earlier_failures(client, users):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        log_in(client, "alice", "typo", OTHER)
    assert log_in(client, "alice", "right-alice-pw", OTHER).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        assert log_in(client, "alice", "typo", OTHER).status_code == 200
    assert log_in(client, "alice", "right-alice-pw", OTHER).status_code == 302
