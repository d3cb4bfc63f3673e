import base64

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from bookdesk.notifications.models import DevMessage


def _development_only():
    if settings.ENVIRONMENT != "development":
        raise Http404


def dev_mailbox(request):
    _development_only()
    return render(
        request, "notifications/dev_mailbox.html", {"messages_list": DevMessage.objects.all()[:100]}
    )


def dev_message(request, pk: int):
    _development_only()
    return render(
        request, "notifications/dev_message.html", {"message": get_object_or_404(DevMessage, pk=pk)}
    )


def dev_message_html(request, pk: int):
    _development_only()
    message = get_object_or_404(DevMessage, pk=pk)
    response = HttpResponse(message.html or "<p>(no HTML part)</p>")
    # Shown in a frame of our page: a mail's HTML must not run scripts or reach our cookies.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def dev_message_attachment(request, pk: int, index: int):
    _development_only()
    message = get_object_or_404(DevMessage, pk=pk)
    try:
        attachment = message.attachments[index]
        content = base64.b64decode(attachment["content"])
    except (IndexError, KeyError):
        raise Http404 from None
    response = HttpResponse(
        content, content_type=attachment.get("mimetype") or "application/octet-stream"
    )
    filename = attachment.get("filename") or "attachment"
    response["Content-Disposition"] = f'attachment; filename="{filename.replace(chr(34), "")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
