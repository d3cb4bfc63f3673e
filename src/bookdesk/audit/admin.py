"""The audit log in the Django admin: admins may read and filter it, nobody may change it."""

from django.contrib import admin

from bookdesk.audit.models import AuditEvent
from bookdesk.core.admin_roles import ReadOnlyForAdminsMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyForAdminsMixin, admin.ModelAdmin):
    list_display = ["at", "actor_email", "action", "target_type", "target_id", "ip", "request_id"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_email", "target_id"]
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False  # a count(*) over a large log on every page is wasted work
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    fields = tuple(readonly_fields)
