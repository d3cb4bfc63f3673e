from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookdesk.bookings"
    label = "bookings"

    def ready(self) -> None:
        from bookdesk.bookings.services import bookings_expire_stale
        from bookdesk.core import periodic

        periodic.register(bookings_expire_stale)
