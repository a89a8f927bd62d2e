"""django-rq's dashboard, for superusers only.

Its pages can delete, requeue and empty jobs, and django-rq itself only asks
for staff status, which every Viewer has. The dashboard carries no model
permission to grant, so it is kept to superusers."""
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.urls.resolvers import URLPattern
from django_rq.admin import QueueAdmin


def _superuser_only(view):
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied("The job queue dashboard is for superusers.")
        return view(request, *args, **kwargs)
    return guarded


class JobQueueAdmin(QueueAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def get_urls(self):
        return [URLPattern(p.pattern, _superuser_only(p.callback), p.default_args, p.name) for p in super().get_urls()]
