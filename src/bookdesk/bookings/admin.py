from django.contrib import admin

from bookdesk.bookings.models import Booking, BookingSeries
from bookdesk.core.admin_roles import AdminRoleMixin, ReadOnlyForAdminsMixin


@admin.register(Booking)
class BookingAdmin(ReadOnlyForAdminsMixin, admin.ModelAdmin):
    # Changes belong to the services (audit, mail, conflict rule): the admin only shows.
    list_display = ["title", "resource", "requester", "start", "end", "status"]
    list_filter = ["status", "resource"]
    search_fields = ["title", "purpose", "requester__email", "resource__name"]
    date_hierarchy = "start"
    list_select_related = ["resource", "requester"]
    readonly_fields = [
        "resource",
        "requester",
        "start",
        "end",
        "attendees",
        "status",
        "holds_slot",
        "series",
        "decided_by",
        "decided_at",
        "decision_reason",
        "created_at",
        "updated_at",
    ]


@admin.register(BookingSeries)
class BookingSeriesAdmin(AdminRoleMixin, admin.ModelAdmin):
    list_display = ["id", "resource", "requester", "frequency", "count", "until", "created_at"]
    readonly_fields = ["resource", "requester", "frequency", "interval", "count", "until"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
