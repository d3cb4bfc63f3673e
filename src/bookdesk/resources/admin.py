from django.contrib import admin

from bookdesk.audit.services import audit_record
from bookdesk.core.admin_roles import AdminRoleMixin
from bookdesk.resources.models import Blackout, OpeningHours, Resource


class AuditedAdmin(AdminRoleMixin, admin.ModelAdmin):
    """Changes made in the Django admin are audited like those made through the app."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            action="resource.updated"
            if change or not isinstance(obj, Resource)
            else "resource.created",
            actor=request.user,
            request=request,
            target=obj,
            via="admin",
            fields=sorted(form.changed_data),
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            audit_record(
                action="resource.updated",
                actor=request.user,
                request=request,
                target=form.instance,
                via="admin",
                changed=formset.model._meta.verbose_name_plural,
            )

    def delete_model(self, request, obj):
        audit_record(
            action="resource.updated",
            actor=request.user,
            request=request,
            target=obj,
            via="admin",
            deleted=str(obj),
        )
        super().delete_model(request, obj)


class OpeningHoursInline(AdminRoleMixin, admin.TabularInline):
    model = OpeningHours
    extra = 0


class BlackoutInline(AdminRoleMixin, admin.TabularInline):
    model = Blackout
    extra = 0


@admin.register(Resource)
class ResourceAdmin(AuditedAdmin):
    list_display = [
        "name",
        "kind",
        "location",
        "capacity",
        "timezone",
        "requires_approval",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "requires_approval", "pending_holds_slot"]
    search_fields = ["name", "location", "description"]
    filter_horizontal = ["approver_groups"]
    inlines = [OpeningHoursInline, BlackoutInline]


@admin.register(Blackout)
class BlackoutAdmin(AuditedAdmin):
    list_display = ["reason", "resource", "start", "end"]
    list_filter = ["resource"]
    date_hierarchy = "start"
