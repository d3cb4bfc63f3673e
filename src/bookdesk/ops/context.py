from django.conf import settings

# Main navigation for signed-in users: (label, url). Apps add their pages here.
NAV_ITEMS: list[dict] = []


def site(request):
    return {
        "ENVIRONMENT": settings.ENVIRONMENT,
        "VERSION": settings.VERSION,
        "NAV_ITEMS": NAV_ITEMS,
        "DEV_MAILBOX": settings.ENVIRONMENT == "development"
        and settings.EMAIL_BACKEND.endswith("DevMailboxBackend"),
    }
