"""Make sure the demo's admin user exists with the password in the file.

The password comes from a file (never argv, which `ps` shows). A user who
already exists gets the stored password back, so the credentials the demo
prints always work.
  usage: python scripts/demo_admin.py USERNAME PASSWORD_FILE
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackato_dash.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

username, password_file = sys.argv[1], sys.argv[2]
password = Path(password_file).read_text().strip()
user, created = get_user_model().objects.get_or_create(username=username)
if created or not (user.check_password(password) and user.is_active and user.is_staff and user.is_superuser):
    user.set_password(password)
    user.is_active = user.is_staff = user.is_superuser = True
    user.save()
print("created" if created else "exists")
