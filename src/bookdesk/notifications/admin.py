"""The outbox in the Django admin: read what was queued and why it failed; retry it now."""

from django.contrib import admin, messages

from bookdesk.core.admin_roles import ReadOnlyForAdminsMixin
from bookdesk.notifications.models import DevMessage, OutboxMessage
from bookdesk.notifications.outbox import SECRET_KINDS
from bookdesk.notifications.services import outbox_retry_now


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyForAdminsMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipients",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["subject", "request_id", "dedupe_key"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = [
        "kind",
        "to",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_by",
        "last_error",
        "created_at",
        "sent_at",
        "request_id",
        "dedupe_key",
        "attachment_names",
        "body",
    ]
    fields = tuple(readonly_fields)
    actions = ["retry_now"]

    @admin.display(description="to")
    def recipients(self, obj):
        return ", ".join(obj.to)

    @admin.display(description="text")
    def body(self, obj):
        # A reset link waiting to be sent would let whoever reads it into the account.
        if obj.kind in SECRET_KINDS:
            return "[hidden: it holds a secret link for the recipient only]"
        return obj.text

    @admin.display(description="attachments")
    def attachment_names(self, obj):
        return ", ".join(a["filename"] for a in obj.attachments) or "-"

    @admin.action(description="Retry now (pending or given-up messages)")
    def retry_now(self, request, queryset):
        count = outbox_retry_now(messages=list(queryset), actor=request.user, request=request)
        self.message_user(
            request,
            f"{count} message(s) will be sent by the worker within seconds.",
            messages.SUCCESS,
        )


@admin.register(DevMessage)
class DevMessageAdmin(ReadOnlyForAdminsMixin, admin.ModelAdmin):
    list_display = ["at", "to", "subject"]
    search_fields = ["to", "subject"]
    readonly_fields = ["at", "from_email", "to", "subject", "body", "attachments"]
    fields = tuple(readonly_fields)
