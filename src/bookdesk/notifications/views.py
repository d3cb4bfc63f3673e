from django.conf import settings
from django.http import Http404
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
