"""`manage.py rollout` and `manage.py image`: the admin's actions without a
browser, through the same functions and permission checks."""
