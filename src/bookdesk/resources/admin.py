from django.contrib import admin

from bookdesk.resources.models import Blackout, OpeningHours, Resource


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class BlackoutInline(admin.TabularInline):
    model = Blackout
    extra = 0


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
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
class BlackoutAdmin(admin.ModelAdmin):
    list_display = ["reason", "resource", "start", "end"]
    list_filter = ["resource"]
    date_hierarchy = "start"
