"""The audit log in the Django admin: admins may read and filter it, nobody may change it."""

from django.contrib import admin

from bookdesk.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_email", "action", "target_type", "target_id", "ip", "request_id"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_email", "target_id"]
    date_hierarchy = "at"
    list_select_related = False
    show_full_result_count = False  # a count(*) over a large log on every page is wasted work
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    fields = readonly_fields

    # Admins read it whether or not they hold Django model permissions; the OTP admin site
    # has already asked for a verified second factor.
    def has_module_permission(self, request):
        return bool(getattr(request.user, "is_admin", False)) or super().has_module_permission(
            request
        )

    def has_view_permission(self, request, obj=None):
        return bool(getattr(request.user, "is_admin", False)) or super().has_view_permission(
            request, obj
        )

    # Append-only: no adding, editing or deleting here, not even for superusers.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
