from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookdesk.bookings"
    label = "bookings"
