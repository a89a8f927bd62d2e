"""API tokens for tests: made as the console makes them (knox: only a
digest is stored), and a DRF test client that sends one."""
from datetime import timedelta

from knox.models import AuthToken
from rest_framework.test import APIClient

# The strategy the plan page proposes, with a reason: a start any role that may start can send.
START = {"reason": "monthly", "canaries": 1, "max_in_flight": "1", "failure_threshold": 0, "health_wait": 5}


def token_for(user, *, days: float = 30) -> str:
    _, token = AuthToken.objects.create(user=user, expiry=timedelta(days=days))
    return token


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client
