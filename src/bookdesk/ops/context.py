from django.conf import settings

from bookdesk.core.mail import backend_is
from bookdesk.notifications.devmailbox import DevMailboxBackend

# Main navigation for signed-in users: {"label", "url"}, and optionally "role": "approver" or
# "admin" for items only those users see (the page itself still checks). Apps add theirs here.
NAV_ITEMS: list[dict] = [
    {"label": "Calendar", "url": "/calendar/"},
    {"label": "Book", "url": "/book/"},
    {"label": "Find a free room", "url": "/availability/"},
    {"label": "My bookings", "url": "/bookings/"},
    {"label": "Approvals", "url": "/approvals/", "role": "approver"},
    {"label": "Exports", "url": "/exports/"},
    {"label": "Resources", "url": "/resources/", "role": "admin"},
    {"label": "Audit log", "url": "/audit/", "role": "admin"},
]


def nav_items_for(user) -> list[dict]:
    def shown(item: dict) -> bool:
        role = item.get("role")
        if role == "admin":
            return bool(getattr(user, "is_admin", False))
        if role == "approver":
            return bool(getattr(user, "is_approver", False))
        return True

    return [item for item in NAV_ITEMS if shown(item)]


def site(request):
    return {
        "ENVIRONMENT": settings.ENVIRONMENT,
        "VERSION": settings.VERSION,
        "NAV_ITEMS": nav_items_for(getattr(request, "user", None)),
        "DEV_MAILBOX": settings.ENVIRONMENT == "development" and backend_is(DevMailboxBackend),
    }
