from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Customer support & analytics"
admin.site.site_title = "Back-office"
admin.site.index_title = "Back-office"
admin.site.site_url = None  # no public site to link to
admin.site.enable_nav_sidebar = False  # queues and threads need the full width

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
]
