from images.admin import image_version_admin  # noqa: F401 - registers the admin
from images.admin import rollout_admin  # noqa: F401,E402 - registers the Rollout admin
from images.admin import rollout_event_admin  # noqa: F401,E402 - registers the governance record's admin
