"""Running `manage.py rollout` in-process as a pipeline would, and the
rows its tests start from (tests/unit/cli)."""
import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError

from images.models import Rollout
from images.models.rollout import RolloutStatus

BASE = "stackato/app-holophonor:3.0.0"


def user_with(*codenames, name="ops"):
    user = User.objects.create_user(name, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def run(*args) -> str:
    out = io.StringIO()
    call_command("rollout", *args, stdout=out)
    return out.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as error:
        run(*args)
    return str(error.value)


def a_rollout(cluster, status=RolloutStatus.ACTIVATING, **fields):
    return Rollout.objects.create(cluster=cluster, target_image="exampleco/app:2", target_pull="exampleco/app:2",
                                  previous_image=BASE, requested_by_username="ops", reason="fix", status=status,
                                  **fields)
