"""Under xdist a plain `db` test can follow a transactional test's flush in
the same process; tests/conftest.py then puts back what the migrations made:
the role groups with every permission given to them, including the grants of
later migrations (nodes/role_grants.py). CI once saw an Operator without the
maintenance window permissions after a flush, and the cluster page dropped
the window it was sent."""
import pytest
from django.contrib.auth.models import Group

from support import migration_data


@pytest.mark.django_db
def test_the_role_groups_come_back_with_the_later_migrations_grants():
    before = {group.name: set(group.permissions.values_list("codename", flat=True))
              for group in Group.objects.filter(name__in=migration_data.ROLE_NAMES)}
    assert "add_maintenancewindow" in before["Operator"] and "view_rolloutevent" in before["Viewer"]
    migration_data.remember_role_permissions("default")  # as before a transactional test's flush
    Group.objects.all().delete()  # what the flush does to them
    migration_data.restore("default")
    after = {group.name: set(group.permissions.values_list("codename", flat=True))
             for group in Group.objects.filter(name__in=migration_data.ROLE_NAMES)}
    assert after == before
