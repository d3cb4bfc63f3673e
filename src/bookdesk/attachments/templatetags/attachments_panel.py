"""``{% attachments_panel booking %}``: the booking page's list of attachments and upload form."""

from __future__ import annotations

from django import template
from django.conf import settings

from bookdesk.attachments import selectors
from bookdesk.attachments.validation import ACCEPTED_DESCRIPTION
from bookdesk.core.formatting import format_bytes

register = template.Library()


@register.inclusion_tag("attachments/_panel.html", takes_context=True)
def attachments_panel(context, booking):
    user = context["request"].user
    visible = selectors.user_may_download(user, booking)
    may_upload = selectors.user_may_upload(user, booking)
    return {
        "booking": booking,
        "visible": visible,
        "attachments": list(selectors.attachments_of(booking)) if visible else [],
        "may_upload": may_upload,
        "accepted": ACCEPTED_DESCRIPTION,
        "max_size": format_bytes(settings.ATTACHMENT_MAX_BYTES),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def human_size(size: int) -> str:
    return format_bytes(size)
