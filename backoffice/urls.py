from django.contrib import admin
from django.urls import path, re_path
from django.views.generic import RedirectView

from api.middleware import not_found as api_not_found
from api.v1 import api as api_v1

admin.site.site_header = "Customer support & analytics"
admin.site.site_title = "Back-office"
admin.site.index_title = "Back-office"
admin.site.site_url = None  # no public site to link to
admin.site.enable_nav_sidebar = False  # queues and threads need the full width

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api_v1.urls),
    re_path(r"^api/", api_not_found),  # any other path under /api/: a problem+json 404, not a page
]
