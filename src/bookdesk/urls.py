from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from bookdesk.accounts import views as accounts_views
from bookdesk.api.api import api

# The Django admin asks for an admin whose session passed the second factor.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "Bookdesk administration"

urlpatterns = [
    # The admin's own login form would bypass lockout and the code step: send it to ours.
    path("admin/login/", accounts_views.admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("bookdesk.accounts.urls")),
    path("resources/", include("bookdesk.resources.urls")),
    path("audit/", include("bookdesk.audit.urls")),
    path("attachments/", include("bookdesk.attachments.urls")),
    path("exports/", include("bookdesk.exports.urls")),
    path("", include("bookdesk.ops.urls")),
    path("", include("bookdesk.notifications.urls")),
    path("", include("bookdesk.bookings.urls")),
]

handler404 = "bookdesk.api.errors.json_404"
handler500 = "bookdesk.api.errors.json_500"
