from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from stackato_dash.metrics.view import metrics

admin.site.site_header = "stackato_dash"
admin.site.site_title = "stackato_dash"
admin.site.index_title = "Fleet console"

# django-rq registers its queue dashboard as an admin model (RQ_SHOW_ADMIN_LINK),
# so it is served under /admin/ with the admin's own login.
urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),
    # The token API and its OpenAPI schema (api/, README: API).
    path("api/", include("api.urls")),
]
